package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/netx"
)

// observed returns a node's outermost handler around mux, logging to buf.
func observed(t testing.TB, buf *bytes.Buffer, level slog.Level, mux *http.ServeMux) http.Handler {
	t.Helper()
	proxies, err := netx.ParseProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(netx.LogHandler(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})))
	s := &Server{opts: Options{Log: log}, metrics: metrics.New("test"), proxies: proxies}
	return s.observe(mux)
}

func TestObserveLogsAndCountsByRoute(t *testing.T) {
	var buf bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		if netx.RequestID(r.Context()) == "" {
			t.Error("the handler sees no request id")
		}
		if got := netx.ClientIP(r).String(); got != "198.51.100.4" {
			t.Errorf("the handler sees client %s, want the proxy's client", got)
		}
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("short and stout"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	h := observed(t, &buf, slog.LevelInfo, mux)

	req := httptest.NewRequest("GET", "/things/42?secret=text", nil)
	req.RemoteAddr = "10.1.1.1:5000"
	req.Header.Set("X-Forwarded-For", "198.51.100.4")
	req.Header.Set("X-Request-Id", "abc-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Request-Id"); got != "abc-1" {
		t.Errorf("X-Request-Id = %q, want abc-1", got)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))

	line := buf.String()
	for _, want := range []string{"msg=request", "method=GET", "path=/things/42", `route="GET /things/{id}"`,
		"status=418", "bytes=15", "client_ip=198.51.100.4", "request_id=abc-1"} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %q lacks %s", line, want)
		}
	}
	if strings.Contains(line, "secret") {
		t.Errorf("the access log holds the query string: %q", line)
	}
	if strings.Count(line, "msg=request") != 1 {
		t.Errorf("the probe was logged at info: %q", line)
	}
}

func TestRecorderKeepsTheWritersAbilities(t *testing.T) {
	inner := httptest.NewRecorder()
	rec := &recorder{ResponseWriter: inner}
	var w http.ResponseWriter = rec
	if _, ok := w.(http.Flusher); !ok {
		t.Error("the recorder hides Flush")
	}
	if _, ok := w.(http.Hijacker); !ok {
		t.Error("the recorder hides Hijack (WebSockets need it)")
	}
	rec.Flush()
	if !inner.Flushed {
		t.Error("Flush did not reach the writer")
	}
	if _, _, err := rec.Hijack(); err == nil {
		t.Error("Hijack of a writer that cannot be hijacked succeeded")
	}
	if rec.status() != http.StatusOK {
		t.Errorf("status of an empty answer = %d, want 200", rec.status())
	}
	rec.WriteHeader(http.StatusSwitchingProtocols)
	if rec.status() != http.StatusSwitchingProtocols {
		t.Errorf("status after 101 = %d", rec.status())
	}
}

func BenchmarkObserve(b *testing.B) {
	var buf bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("GET /clientweb/api/v2/chats/{chatId}/events", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"events":[]}`))
	})
	// Polls are logged at debug: at info, as in production, they are not.
	h := observed(b, &buf, slog.LevelInfo, mux)
	req := httptest.NewRequest("GET", "/clientweb/api/v2/chats/k3J/events", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if buf.Len() != 0 {
		b.Fatalf("polls were logged at info: %q", buf.String())
	}
}
