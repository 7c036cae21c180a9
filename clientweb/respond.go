package clientweb

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley/chat"
)

// statusOf maps every code of the spec's error table to its HTTP status. It
// is the only place that knows this mapping.
var statusOf = map[chat.Code]int{
	chat.CodeTenant:          http.StatusForbidden,
	chat.CodeNoAuth:          http.StatusUnauthorized,
	chat.CodeAuthMalformed:   http.StatusUnauthorized,
	chat.CodeAuthScheme:      http.StatusUnauthorized,
	chat.CodeNoAppID:         http.StatusUnauthorized,
	chat.CodeNoClientID:      http.StatusUnauthorized,
	chat.CodeUnknownApp:      http.StatusForbidden,
	chat.CodeTimeout:         http.StatusGatewayTimeout,
	chat.CodeUnavailable:     http.StatusServiceUnavailable,
	chat.CodeInvalid:         http.StatusBadRequest,
	chat.CodeDisconnected:    http.StatusServiceUnavailable,
	chat.CodeChatNotFound:    http.StatusNotFound,
	chat.CodeEntryNotFound:   http.StatusNotFound,
	chat.CodeInternal:        http.StatusInternalServerError,
	chat.CodeTooLarge:        http.StatusBadRequest,
	chat.CodeFileNotFound:    http.StatusNotFound,
	chat.CodeTooManyPolls:    http.StatusTooManyRequests,
	chat.CodeFileRefused:     http.StatusBadRequest,
	chat.CodeNoCase:          http.StatusNotAcceptable,
	chat.CodeCRM:             http.StatusInternalServerError,
	chat.CodePushUnsupported: http.StatusNotAcceptable,
	chat.CodeUnspecified:     http.StatusInternalServerError,
	chat.CodeRateLimited:     http.StatusTooManyRequests,
	// The agent and admin APIs' (through jsonapi): no routing leader.
	chat.CodeRoutingUnavailable: http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status of an error code.
func StatusOf(c chat.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// noCache is on every JSON answer: a cached poll once made a client replay
// one message 70 times a second. The values are shared by every answer
// (Header.Set would allocate them each time): net/http only reads them,
// and Add would append to a copy.
func noCache(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"] = noStoreValue
	h["Content-Type"] = jsonTypeValue
}

var (
	noStoreValue  = []string{"no-cache, no-store"}
	jsonTypeValue = []string{"application/json; charset=utf-8"}
)

// writeJSON answers 200 with v, which must encode as an object.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeRaw(w, http.StatusInternalServerError, []byte(`{"error_code":"5500","error_message":"internal server error"}`))
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// writeEmpty answers 200 with {}: what the methods that return nothing
// answer, Send Events above all.
func writeEmpty(w http.ResponseWriter) { writeRaw(w, http.StatusOK, emptyObject) }

var emptyObject = []byte("{}")

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	noCache(w)
	w.WriteHeader(status)
	w.Write(body)
}

// errorBody is the error object of the spec; error_code is a string.
type errorBody struct {
	Code    chat.Code `json:"error_code"`
	Message string    `json:"error_message"`
}

// statusClientClosedRequest is what the node records, in its metrics and
// access log, for a request whose client left before its answer (499, as
// nginx logs it). No client reads it.
const statusClientClosedRequest = 499

// ClientLeft answers a request that err ended because its client went
// away, and reports whether it did. net/http cancels the request's context
// when the connection closes, and the work under way stops with
// context.Canceled; mobile clients do that whenever they lose their
// network. It is not the node's failure: a debug line and a 499, nothing an
// operator must look at. Every API's error writer asks it first.
func ClientLeft(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) bool {
	if !errors.Is(err, context.Canceled) || r.Context().Err() == nil {
		return false
	}
	log.DebugContext(r.Context(), "client left before its answer", "method", r.Method, "path", r.URL.Path, "err", err)
	w.WriteHeader(statusClientClosedRequest)
	return true
}

// writeError answers with the error's code, status and client-safe message.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if ClientLeft(w, r, h.Log, err) {
		return
	}
	code := chat.ErrorCode(err)
	if code == chat.CodeInternal || code == chat.CodeTimeout || code == chat.CodeDisconnected {
		h.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	body, _ := json.Marshal(errorBody{Code: code, Message: chat.ErrorMessage(err)})
	writeRaw(w, StatusOf(code), body)
}
