package clientweb

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/chat"
)

// Scheme is the authorization scheme of the customer API.
const Scheme = "MOBILE-API-140-327-PLAIN"

// WebChatClient is the clientId that asks to be identified by cookie.
const WebChatClient = "WebChat"

// webChatCookie carries the server-issued client id of a browser.
const webChatCookie = "parley_webchat"

// Credentials are the values of the Authorization header.
type Credentials struct {
	AppID    string
	ClientID string
}

// ParseAuthorization parses `MOBILE-API-140-327-PLAIN appId=<a>, clientId=<c>`.
// Values may be bare (the SDKs) or quoted (the docs and the web script), with
// any whitespace around them; unknown parameters are ignored.
func ParseAuthorization(h string) (Credentials, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return Credentials{}, chat.Errorf(chat.CodeNoAuth, "no Authorization header")
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, Scheme) {
		return Credentials{}, chat.Errorf(chat.CodeAuthScheme, "authorization scheme must be %s", Scheme)
	}
	var c Credentials
	rest = strings.TrimSpace(rest)
	for rest != "" {
		var key, value string
		var err error
		key, value, rest, err = nextParam(rest)
		if err != nil {
			return Credentials{}, err
		}
		switch {
		case strings.EqualFold(key, "appId") && c.AppID == "":
			c.AppID = value
		case strings.EqualFold(key, "clientId") && c.ClientID == "":
			c.ClientID = value
		}
	}
	if c.AppID == "" {
		return Credentials{}, chat.Errorf(chat.CodeNoAppID, "appId missing in Authorization header")
	}
	if c.ClientID == "" {
		return Credentials{}, chat.Errorf(chat.CodeNoClientID, "clientId missing in Authorization header")
	}
	return c, nil
}

// malformed is the error of an Authorization header nextParam cannot read:
// made when needed, never on the way of a good header.
func malformed() error {
	return &chat.Error{Code: chat.CodeAuthMalformed, Message: "Authorization header malformed"}
}

// nextParam takes one `key=value` or `key="value"` off the front of s.
func nextParam(s string) (key, value, rest string, err error) {
	key, s, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.ContainsAny(key, " \t\",") {
		return "", "", "", malformed()
	}
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", "", malformed()
		}
		value, s = s[1:end+1], s[end+2:]
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return "", "", "", malformed()
		}
	} else {
		value, s, _ = strings.Cut(s, ",")
		value = strings.TrimSpace(value)
		if strings.ContainsAny(value, "\" \t") {
			return "", "", "", malformed()
		}
		s = "," + s
	}
	return key, value, strings.TrimSpace(strings.TrimPrefix(s, ",")), nil
}

// webChatClientID returns the client id of a browser in cookie mode, issuing
// a cookie when it has none. The stored id is a hash of the cookie, so that
// nobody who sees client ids (agents, logs) can act as the browser.
func webChatClientID(w http.ResponseWriter, r *http.Request) string {
	secret := ""
	if c, err := r.Cookie(webChatCookie); err == nil && len(c.Value) >= 22 && len(c.Value) <= 64 {
		secret = c.Value
	} else {
		secret = chat.NewID() + chat.NewID()
		http.SetCookie(w, &http.Cookie{
			Name: webChatCookie, Value: secret, Path: "/clientweb/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
		})
	}
	sum := sha256.Sum256([]byte(secret))
	return "web-" + base64.RawURLEncoding.EncodeToString(sum[:16])
}
