// Package jsonapi holds what the agent and admin APIs answer alike: the
// error object of the customer API ({"error_code","error_message"}) with the
// statuses of its table, four codes of their own for 401, 403, 404 and 409,
// and JSON bodies that are never cached.
package jsonapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
)

// Codes of the agent and admin APIs beyond the customer table.
const (
	CodeUnauthorized chat.Code = "4010"
	CodeForbidden    chat.Code = "4030"
	CodeNotFound     chat.Code = "4040"
	CodeConflict     chat.Code = "4090"
)

// Status returns the HTTP status of an error code.
func Status(c chat.Code) int {
	switch c {
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeConflict:
		return http.StatusConflict
	}
	return clientweb.StatusOf(c)
}

// WriteError answers with err's code, status and client-safe message;
// internal failures are logged with their cause. A request whose client
// left is not one (clientweb.ClientLeft).
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if clientweb.ClientLeft(w, r, log, err) {
		return
	}
	code := chat.ErrorCode(err)
	if code == chat.CodeInternal {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	body, _ := json.Marshal(map[string]string{"error_code": string(code), "error_message": chat.ErrorMessage(err)})
	WriteRaw(w, Status(code), body)
}

// WriteJSON answers 200 with v. HTML characters are not escaped: answers
// are JSON with nosniff, never a page, and "<redacted>" should read as such.
func WriteJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		WriteRaw(w, http.StatusInternalServerError, []byte(`{"error_code":"5500","error_message":"internal server error"}`))
		return
	}
	WriteRaw(w, http.StatusOK, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// WriteRaw answers with a JSON body that is never cached.
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// ReadBody reads a request body of at most limit bytes.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, chat.Errorf(chat.CodeInvalid, "request body unreadable or over %d bytes", limit)
	}
	return body, nil
}
