package chat

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

var (
	// looksLikeHTML finds a tag of the formatting clients send (iOS: <br>);
	// plain text such as "a < b" or "mail <ada@example.com>" stays verbatim
	// because Android shows msg as text and would show escapes literally.
	looksLikeHTML = regexp.MustCompile(`(?i)<(/?(br|p|div|span|b|i|u|s|em|strong|a|img|ul|ol|li|font|blockquote|code|pre|h[1-6]|sub|sup|table|tr|td|iframe|script|style|object|embed|svg|math|form|input|button|video|audio|link|meta)\b|!--)`)
	lineBreak     = regexp.MustCompile(`(?i)<br\s*/?>|</p>`)
	richText      = bluemonday.UGCPolicy()
	plainText     = bluemonday.StrictPolicy()
)

// MessageBody returns the msg and msg_text of a message from a client. HTML
// (iOS sends <br> for newlines) is sanitized so that it is safe to render; the
// plain text is the sender's msg_text or, without one, the text of msg.
// Markup that carries no text ("<A", "<https://…>", a lone <script>) is what
// someone typed rather than HTML: it is kept as text, escaped in msg, so that
// a message is never emptied and msg_text never holds markup.
func MessageBody(msg, msgText string) (string, string) {
	// Every tag looksLikeHTML finds starts with '<': most messages have
	// none and need no regular expression.
	if strings.IndexByte(msg, '<') >= 0 && looksLikeHTML.MatchString(msg) {
		clean := richText.Sanitize(msg)
		text := html.UnescapeString(plainText.Sanitize(lineBreak.ReplaceAllString(clean, "\n")))
		switch {
		case strings.TrimSpace(text) == "":
			if msgText == "" {
				msgText = msg
			}
			msg = html.EscapeString(msg)
		case msgText == "":
			msg, msgText = clean, text
		default:
			msg = clean
		}
	}
	if msgText == "" {
		msgText = msg
	}
	return msg, strings.TrimRight(msgText, "\n")
}
