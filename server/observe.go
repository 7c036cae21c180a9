package server

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/netx"
)

// quietRoutes are logged at debug rather than info: held polls and agent
// streams, which a busy node answers thousands of times a minute, and the
// probes and scrapes that come every few seconds.
var quietRoutes = map[string]bool{
	"GET " + clientweb.Prefix + "chats/{chatId}/events": true,
	"GET " + agentapi.Prefix + "stream":                 true,
	"GET /healthz":                                      true,
	"GET /readyz":                                       true,
	"GET /metrics":                                      true,
}

// observe is the node's outermost handler: it works out who sent the
// request (through the trusted proxies) and its id, echoes the id in
// X-Request-Id, counts the request by route and code, and logs it. The
// access log never holds bodies or query strings, so no customer's message
// text reaches it.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := s.proxies.Resolve(r)
		w.Header().Set(netx.RequestIDHeader, info.RequestID)
		r = netx.With(r, &info)
		s.metrics.RequestStarted()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			took := time.Since(start)
			code := rec.status()
			// ServeMux sets the pattern on the request it routes; the
			// APIs' own muxes set theirs on the same request.
			s.metrics.RequestDone(r.Pattern, r.Method, code, took)
			s.accessLog(r, &info, code, rec.bytes, took)
		}()
		next.ServeHTTP(rec, r)
	})
}

func (s *Server) accessLog(r *http.Request, info *netx.Info, code int, bytes int64, took time.Duration) {
	level := slog.LevelInfo
	if quietRoutes[r.Pattern] {
		level = slog.LevelDebug
	}
	log := s.opts.Log
	// A request's context may be done (the client left); the line is
	// still wanted.
	ctx := context.WithoutCancel(r.Context())
	if !log.Enabled(ctx, level) {
		return
	}
	log.LogAttrs(ctx, level, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", r.Pattern),
		slog.Int("status", code),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("client_ip", info.ClientIP.String()),
		slog.String("proto", r.Proto),
		slog.String("user_agent", r.UserAgent()),
	)
}

// recorder notes the status and size of an answer. It lets the handlers
// below reach the connection's other abilities (flushing, hijacking for
// WebSockets) through Unwrap and the interfaces it implements.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 || r.code < 200 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// status is the answer's code: 200 when the handler wrote nothing.
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}
