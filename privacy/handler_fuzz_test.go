package privacy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/privacy"
)

// privacyCalls are the privacy routes, each about the fixture's client
// (ann), her chat chat-1 and her case case-1.
var privacyCalls = []struct{ method, path string }{
	{"POST", "erase"},
	{"GET", "chats/chat-1/export"},
	{"GET", "cases/case-1/export"},
}

// FuzzPrivacyAPI sends an Authorization header, a query (?format=) and a
// body (an erasure request) to the privacy routes. Only the bearer token
// opens them; the answer is 200 or a 4xx error object, never a server
// error; a refused erasure erases nothing, and an export is the JSON or
// HTML page asked for, offered under a file name that parses. Seeds are in
// testdata/fuzz/FuzzPrivacyAPI: call indexes privacyCalls.
func FuzzPrivacyAPI(f *testing.F) {
	const token = "s3cret-privacy-token"
	base := newFixture(f)
	f.Fuzz(func(t *testing.T, call uint8, authorization, query string, body []byte) {
		fx := fuzzFixture(t, base)
		m := privacyCalls[int(call)%len(privacyCalls)]
		r, err := http.NewRequestWithContext(t.Context(), m.method, "http://privacy.test"+privacy.Prefix+m.path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		r.Header.Set("Authorization", authorization)
		before := fx.kept(t)
		w := httptest.NewRecorder()
		privacy.NewHandler(fx.eraser, privacy.BearerToken(token), slog.New(slog.DiscardHandler)).ServeHTTP(w, r)
		what := m.method + " " + m.path + "?" + query

		scheme, got, _ := strings.Cut(authorization, " ")
		authorized := strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(got) == token
		if !authorized && w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Fatalf("%s with Authorization %q: %d, want 401 or 403", what, authorization, w.Code)
		}
		if w.Code != http.StatusOK {
			checkPrivacyError(t, what, w)
			if after := fx.kept(t); after != before {
				t.Fatalf("%s %q: refused with %d %s, but %d of %d chats are left", what, body, w.Code, w.Body, after, before)
			}
			return
		}
		if m.method == "POST" {
			var answer struct {
				Erased privacy.Erased `json:"erased"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
				t.Fatalf("%s %q: answer %s: %v", what, body, w.Body, err)
			}
			return
		}
		_, params, err := mime.ParseMediaType(w.Header().Get("Content-Disposition"))
		name := params["filename"]
		ctype := w.Header().Get("Content-Type")
		switch {
		case err != nil:
			t.Fatalf("%s: Content-Disposition %q: %v", what, w.Header().Get("Content-Disposition"), err)
		case strings.HasSuffix(name, ".json") && strings.HasPrefix(ctype, "application/json"):
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s: the JSON export is not JSON", what)
			}
		case strings.HasSuffix(name, ".html") && strings.HasPrefix(ctype, "text/html"):
			if !bytes.HasPrefix(w.Body.Bytes(), []byte("<!DOCTYPE html>")) || bytes.Contains(w.Body.Bytes(), []byte("<script")) {
				t.Fatalf("%s: the HTML export is not the page", what)
			}
		default:
			t.Fatalf("%s: exported %s as %q", what, ctype, name)
		}
	})
}

// fuzzFixture returns fx holding ann's ended chat chat-1 in case case-1,
// made again when an erasure took it.
func fuzzFixture(t *testing.T, fx *fixture) *fixture {
	t.Helper()
	if _, err := fx.st.Session(t.Context(), "chat-1"); errors.Is(err, chat.ErrNotFound) {
		k := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "ann"}
		if err := fx.st.PutCase(t.Context(), chat.Case{ID: "case-1", ClientKey: k, Created: t0}); err != nil && !errors.Is(err, chat.ErrConflict) {
			t.Fatal(err)
		}
		fx.conversation(t, k, "chat-1", "case-1", "Hello, I need help", evil)
	}
	return fx
}

// kept counts the fixture's chats still stored.
func (f *fixture) kept(t *testing.T) int {
	t.Helper()
	sessions, err := f.st.ClientSessions(t.Context(), chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	return len(sessions)
}

var privacyErrorCode = regexp.MustCompile(`^[0-9]{4}$`)

// checkPrivacyError checks that a refusal is a 4xx with the error object.
func checkPrivacyError(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code < 400 || w.Code > 499 {
		t.Fatalf("%s: status %d %s, want 200 or a 4xx", what, w.Code, w.Body)
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	if err := dec.Decode(&obj); err != nil || dec.Decode(new(any)) != io.EOF {
		t.Fatalf("%s: error body %q is not one JSON object", what, w.Body)
	}
	code, _ := obj["error_code"].(string)
	msg, _ := obj["error_message"].(string)
	if !privacyErrorCode.MatchString(code) || msg == "" || len(obj) != 2 {
		t.Fatalf("%s: error body %s, want only a string error_code of digits and an error_message", what, w.Body)
	}
}
