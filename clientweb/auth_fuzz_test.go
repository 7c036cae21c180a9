package clientweb_test

import (
	"errors"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
)

// authSeeds are Authorization headers as the SDKs, the docs and broken
// clients send them; testdata/fuzz/FuzzParseAuthorization holds more.
var authSeeds = []string{
	"MOBILE-API-140-327-PLAIN appId=demo-chat, clientId=3d0f7e0c-5d0e-4b8a-a4cf-5b1c8e7f9a21",
	`MOBILE-API-140-327-PLAIN appId="demo-chat", clientId="WebChat"`,
	"MOBILE-API-140-327-PLAIN appId=demo-chat, clientId=A1B2C3D4-0000-4000-8000-00000000000A ",
	"  MOBILE-API-140-327-PLAIN   appId =  demo-chat ,clientId=x  ",
	`MOBILE-API-140-327-PLAIN appId="a,b", clientId=""`,
	`MOBILE-API-140-327-PLAIN appId="unterminated`,
	"MOBILE-API-140-327-PLAIN appId",
	"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
	"",
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range authSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := clientweb.ParseAuthorization(header)
		if err != nil {
			var ce *chat.Error
			if !errors.As(err, &ce) {
				t.Fatalf("ParseAuthorization(%q): error %v is not a *chat.Error", header, err)
			}
			switch ce.Code {
			case chat.CodeNoAuth, chat.CodeAuthMalformed, chat.CodeAuthScheme, chat.CodeNoAppID, chat.CodeNoClientID:
			default:
				t.Fatalf("ParseAuthorization(%q): code %s, want one of 2000-2004", header, ce.Code)
			}
			if c != (clientweb.Credentials{}) {
				t.Fatalf("ParseAuthorization(%q) failed but returned %+v", header, c)
			}
			return
		}
		if c.AppID == "" || c.ClientID == "" {
			t.Fatalf("ParseAuthorization(%q) = %+v, want both ids", header, c)
		}
		// What was accepted is said again in the docs' quoted form.
		quoted := clientweb.Scheme + ` appId="` + c.AppID + `", clientId="` + c.ClientID + `"`
		again, err := clientweb.ParseAuthorization(quoted)
		if err != nil || again != c {
			t.Fatalf("ParseAuthorization(%q) = %+v, but its quoted form %q parses as %+v, %v", header, c, quoted, again, err)
		}
	})
}
