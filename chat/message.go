package chat

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

var (
	// looksLikeHTML finds a tag; plain text such as "a < b" stays verbatim
	// because Android shows msg as text and would show escapes literally.
	looksLikeHTML = regexp.MustCompile(`<[a-zA-Z/!]`)
	lineBreak     = regexp.MustCompile(`(?i)<br\s*/?>|</p>`)
	richText      = bluemonday.UGCPolicy()
	plainText     = bluemonday.StrictPolicy()
)

// MessageBody returns the msg and msg_text of a message from a client. HTML
// (iOS sends <br> for newlines) is sanitized so that it is safe to render; the
// plain text is the sender's msg_text or, without one, the text of msg.
func MessageBody(msg, msgText string) (string, string) {
	if looksLikeHTML.MatchString(msg) {
		msg = richText.Sanitize(msg)
		if msgText == "" {
			msgText = html.UnescapeString(plainText.Sanitize(lineBreak.ReplaceAllString(msg, "\n")))
		}
	}
	if msgText == "" {
		msgText = msg
	}
	return msg, strings.TrimRight(msgText, "\n")
}
