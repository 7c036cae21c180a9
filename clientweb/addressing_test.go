package clientweb_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
)

func TestTenantURLVariants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name  string
		query string
		host  string
	}{
		{"a bare host names the tenant", "tenantUrl=demo.parley.local", ""},
		{"an escaped URL with scheme, capitals and trailing slash names the tenant", "tenantUrl=https%3A%2F%2FDEMO.parley.local%2F", ""},
		{"an http URL names the tenant", "tenantUrl=http://demo.parley.local/", ""},
		{"a host in capitals names the tenant", "tenantUrl=Demo.Parley.Local", ""},
		{"Android's nonce beside tenantUrl is ignored", "nonce=1732500000123&tenantUrl=demo.parley.local", ""},
		{"the web script's timestamp beside tenantUrl is ignored", "tenantUrl=demo.parley.local&timestamp=1732500000123", ""},
		{"without tenantUrl the Host header names the tenant", "", "demo.parley.local"},
		{"without tenantUrl a Host with a port and capitals names the tenant", "", "DEMO.parley.local:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.newRequest("GET", clientweb.Prefix+"version?"+tt.query, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			r.Header.Set("Authorization", authorization(demoApp, androidClient))
			e.do(r).ok(t)
		})
	}
	t.Run("a chat requested under one spelling is found under another", func(t *testing.T) {
		c := e.customer(demoApp, androidClient)
		c.tenant = "https://DEMO.parley.local/"
		id := c.requestChat()
		c.tenant = "demo.parley.local"
		if obj := c.call("GET", "chats/active", "").ok(t); obj["chat_id"] != id {
			t.Errorf("active chat %v, want %s", obj["chat_id"], id)
		}
	})
}

func TestAuthorizationVariants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.customer(demoApp, androidClient).requestChat()
	tests := []struct {
		name string
		auth string
	}{
		{"bare values, as the SDKs send them, are accepted", clientweb.Scheme + " appId=demo-chat, clientId=" + androidClient},
		{"quoted values, as the docs and the web script send them, are accepted", clientweb.Scheme + ` appId="demo-chat", clientId="` + androidClient + `"`},
		{"extra whitespace everywhere is accepted", "  " + clientweb.Scheme + "    appId =  demo-chat  ,   clientId=   " + androidClient + "   "},
		{"a trailing space is accepted", clientweb.Scheme + " appId=demo-chat, clientId=" + androidClient + " "},
		{"no space after the comma is accepted", clientweb.Scheme + " appId=demo-chat,clientId=" + androidClient},
		{"the parameters in the other order are accepted", clientweb.Scheme + " clientId=" + androidClient + ", appId=demo-chat"},
		{"an unknown extra parameter is ignored", clientweb.Scheme + ` appId="demo-chat", version="2", clientId=` + androidClient},
		{"a lower-case scheme is accepted", strings.ToLower(clientweb.Scheme) + " appId=demo-chat, clientId=" + androidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.newRequest("GET", clientweb.Prefix+"chats/active?tenantUrl="+demoTenant, nil)
			r.Header.Set("Authorization", tt.auth)
			if obj := e.do(r).ok(t); obj["chat_id"] != id {
				t.Errorf("active chat %v, want %s", obj["chat_id"], id)
			}
		})
	}
}

func TestDuplicateSlashesAreServedWithoutRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.requestChat()
	tests := []struct{ method, path, body string }{
		{"GET", "//clientweb/api/v2/version", ""},
		{"POST", "//clientweb/api/v2/chats", `{}`},
		{"POST", "//clientweb/api/v2//chats/" + id + "/events", `{"events":[{"event":"chat_session_typing"}]}`},
		{"GET", "//clientweb//api/v2/chats/" + id + "/history", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+strings.Replace(tt.path, id, "{chat}", 1), func(t *testing.T) {
			r := e.newRequest(tt.method, tt.path+"?tenantUrl="+demoTenant, []byte(tt.body))
			r.Header.Set("Authorization", authorization(demoApp, androidClient))
			e.do(r).ok(t) // ok fails on a 3xx: the client does not follow redirects
		})
	}
}

// webChat is a browser in cookie mode: its Cookie header is set by hand
// since the test server speaks plain HTTP and the cookie is Secure.
func webChatRequest(e *env, cookie *http.Cookie) *http.Request {
	r := e.newRequest("POST", clientweb.Prefix+"chats?tenantUrl="+demoTenant+"&timestamp=1", []byte(`{"parameters":{}}`))
	r.Header.Set("Authorization", authorization(demoApp, clientweb.WebChatClient))
	if cookie != nil {
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	return r
}

func TestWebChatCookieMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.do(webChatRequest(e, nil))
	obj := first.ok(t)
	if len(first.cookies) != 1 {
		t.Fatalf("cookies issued: %v, want one", first.cookies)
	}
	cookie := first.cookies[0]
	t.Run("the cookie is HttpOnly, Secure and SameSite=None", func(t *testing.T) {
		if cookie.Name != webChatCookie || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteNoneMode {
			t.Errorf("cookie = %+v", cookie)
		}
		if len(cookie.Value) < 22 || cookie.MaxAge <= 0 || !strings.HasPrefix("/clientweb/api/v2/", cookie.Path) {
			t.Errorf("cookie value, lifetime or path unfit: %+v", cookie)
		}
	})
	t.Run("the cookie resumes the same chat without a new cookie", func(t *testing.T) {
		again := e.do(webChatRequest(e, cookie))
		got := again.ok(t)
		if got["chat_id"] != obj["chat_id"] || got["is_new_chat"] != false {
			t.Errorf("with the cookie: %v, want chat %v resumed", got, obj["chat_id"])
		}
		if len(again.cookies) != 0 {
			t.Errorf("a browser with a cookie was issued another: %v", again.cookies)
		}
	})
	t.Run("without the cookie a browser is someone else", func(t *testing.T) {
		got := e.do(webChatRequest(e, nil)).ok(t)
		if got["chat_id"] == obj["chat_id"] || got["is_new_chat"] != true {
			t.Errorf("without the cookie: %v, want a new chat", got)
		}
	})
	t.Run("the client id is not the cookie value", func(t *testing.T) {
		s := e.session(obj["chat_id"].(string))
		if s.ClientID == cookie.Value || s.ClientID == clientweb.WebChatClient || strings.Contains(s.ClientID, cookie.Value) {
			t.Errorf("stored client id %q reveals the cookie", s.ClientID)
		}
	})
	t.Run("a forged short cookie is replaced", func(t *testing.T) {
		r := e.do(webChatRequest(e, &http.Cookie{Name: webChatCookie, Value: "short"}))
		r.ok(t)
		if len(r.cookies) != 1 {
			t.Errorf("cookies issued: %v, want a fresh one", r.cookies)
		}
	})
	t.Run("the cookie reaches the chat's other methods", func(t *testing.T) {
		id := obj["chat_id"].(string)
		r := e.newRequest("GET", clientweb.Prefix+"chats/"+id+"/history?tenantUrl="+demoTenant, nil)
		r.Header.Set("Authorization", authorization(demoApp, clientweb.WebChatClient))
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		e.do(r).ok(t)
		r = e.newRequest("GET", clientweb.Prefix+"chats/"+id+"/history?tenantUrl="+demoTenant, nil)
		r.Header.Set("Authorization", authorization(demoApp, clientweb.WebChatClient))
		e.do(r).fails(t, http.StatusNotFound, chat.CodeChatNotFound)
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	preflight := func(tenant, origin string) *reply {
		t.Helper()
		r := e.newRequest("OPTIONS", clientweb.Prefix+"chats?tenantUrl="+tenant, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type,cache-control,useragent")
		return e.do(r)
	}
	allowed := []struct{ name, tenant, origin string }{
		{"an origin listed on an entry", shopTenant, shopOrigin},
		{"any origin where an entry allows *", demoTenant, "https://anywhere.example.net"},
	}
	for _, tt := range allowed {
		t.Run("a preflight from "+tt.name+" is allowed with credentials", func(t *testing.T) {
			r := preflight(tt.tenant, tt.origin)
			r.ok(t)
			hdr := r.header
			if hdr.Get("Access-Control-Allow-Origin") != tt.origin || hdr.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("allow origin %q, credentials %q", hdr.Get("Access-Control-Allow-Origin"), hdr.Get("Access-Control-Allow-Credentials"))
			}
			if m := hdr.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") || !strings.Contains(m, "GET") {
				t.Errorf("allowed methods %q", m)
			}
			h := strings.ToLower(hdr.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"authorization", "content-type", "cache-control", "useragent"} {
				if !strings.Contains(h, want) {
					t.Errorf("allowed headers %q lack %s", h, want)
				}
			}
		})
	}
	refused := []struct{ name, tenant, origin string }{
		{"an origin no entry lists", shopTenant, "https://evil.example.org"},
		{"an origin listed only on a disabled entry", shopTenant, retiredOrigin},
		{"an unknown tenant", "nobody.example.com", shopOrigin},
	}
	for _, tt := range refused {
		t.Run("a preflight from "+tt.name+" is refused", func(t *testing.T) {
			r := preflight(tt.tenant, tt.origin)
			if r.status == http.StatusOK {
				t.Errorf("status 200, want a refusal")
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin %q on a refused preflight", got)
			}
		})
	}

	call := func(origin, auth string) *reply {
		t.Helper()
		r := e.newRequest("GET", clientweb.Prefix+"version?tenantUrl="+shopTenant, nil)
		r.Header.Set("Origin", origin)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return e.do(r)
	}
	t.Run("an answer to an allowed origin carries its CORS headers", func(t *testing.T) {
		r := call(shopOrigin, authorization(shopApp, androidClient))
		r.ok(t)
		if r.header.Get("Access-Control-Allow-Origin") != shopOrigin || r.header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("headers %v", r.header)
		}
	})
	t.Run("an error to an allowed origin carries them too, so the page can read it", func(t *testing.T) {
		r := call(shopOrigin, "")
		r.fails(t, http.StatusUnauthorized, chat.CodeNoAuth)
		if r.header.Get("Access-Control-Allow-Origin") != shopOrigin {
			t.Errorf("no Access-Control-Allow-Origin on the error")
		}
	})
	t.Run("an answer to another origin carries none", func(t *testing.T) {
		r := call("https://evil.example.org", authorization(shopApp, androidClient))
		r.ok(t)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin %q for a foreign origin", got)
		}
	})
	t.Run("an entry's origins do not open another entry", func(t *testing.T) {
		r := call(shopOrigin, authorization(demoApp, androidClient)) // shop tenant's demo-chat lists no origin
		r.ok(t)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin %q on an entry that does not list it", got)
		}
	})
}
