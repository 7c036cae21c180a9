package chat_test

import (
	"testing"

	"github.com/parley-chat/parley/chat"
)

func TestMessageBody(t *testing.T) {
	tests := []struct {
		name             string
		msg, msgText     string
		wantMsg, wantTxt string
	}{
		{"plain text is kept verbatim", "a < b & c > d", "", "a < b & c > d", "a < b & c > d"},
		{"iOS HTML keeps the sender's text", "hi<br>there", "hi\nthere", "hi<br>there", "hi\nthere"},
		{"HTML without a text gets one with line breaks", "<p>hi<br>there</p><p>again</p>", "", "<p>hi<br>there</p><p>again</p>", "hi\nthere\nagain"},
		{"HTML is sanitized", `<b onclick="x()">bold</b><script>alert(1)</script>`, "", "<b>bold</b>", "bold"},
		{"markup without text is text: a lone script", "<script>alert(1)</script>", "", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"},
		{"an autolink is plain text", "<https://example.com/order/42>", "", "<https://example.com/order/42>", "<https://example.com/order/42>"},
		{"an address in angle brackets is plain text", "mail <ada@example.com>", "", "mail <ada@example.com>", "mail <ada@example.com>"},
		{"markup without text is text: a half tag", "<A", "", "&lt;A", "<A"},
		{"markup without text is text: an image with a handler", "<img src=x onerror=alert(1)>", "", "&lt;img src=x onerror=alert(1)&gt;", "<img src=x onerror=alert(1)>"},
		{"trailing newlines leave the text", "hello\n\n", "", "hello\n\n", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, text := chat.MessageBody(tt.msg, tt.msgText)
			if msg != tt.wantMsg || text != tt.wantTxt {
				t.Errorf("MessageBody(%q, %q) = %q, %q; want %q, %q", tt.msg, tt.msgText, msg, text, tt.wantMsg, tt.wantTxt)
			}
		})
	}
}
