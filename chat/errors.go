package chat

import (
	"context"
	"errors"
	"fmt"
)

// Code is an error code of the customer API's error table. The HTTP layer maps
// each code to its status once; the rest of the program only names codes.
type Code string

// The codes of the spec's error table.
const (
	CodeTenant          Code = "1000" // missing or unknown tenantUrl
	CodeNoAuth          Code = "2000" // no Authorization header
	CodeAuthMalformed   Code = "2001" // Authorization header malformed
	CodeAuthScheme      Code = "2002" // wrong authorization scheme
	CodeNoAppID         Code = "2003" // appId missing
	CodeNoClientID      Code = "2004" // clientId missing
	CodeUnknownApp      Code = "3000" // appId unknown for this tenant, or entry disabled
	CodeTimeout         Code = "5000" // server timeout
	CodeUnavailable     Code = "5001" // no server available to accept the chat
	CodeInvalid         Code = "5003" // invalid JSON or request body
	CodeDisconnected    Code = "5004" // server disconnected
	CodeChatNotFound    Code = "5005" // chat not found, ended, or not this client's
	CodeEntryNotFound   Code = "5006" // scenario entry not found
	CodeInternal        Code = "5500" // internal server error
	CodeTooLarge        Code = "5501" // upload size limit exceeded
	CodeFileNotFound    Code = "5502" // file not found
	CodeTooManyPolls    Code = "5509" // too many concurrent polls
	CodeFileRefused     Code = "5558" // file operation error
	CodeNoCase          Code = "5601" // this chat has no case
	CodeCRM             Code = "5602" // CRM server error
	CodePushUnsupported Code = "5603" // push token kinds wrong or not configured
	CodeUnspecified     Code = "5955" // unspecified server error

	// CodeRateLimited is Parley's own (the spec's table has none for it):
	// the client or its address sends more requests than the node's rate
	// limits allow (status 429, with Retry-After). Real SDKs never meet
	// it with the default limits.
	CodeRateLimited Code = "5429"

	// CodeRoutingUnavailable is Parley's own too: nodes sharing a store
	// route through one leader, and none answered in time (status 503). It
	// lasts no longer than a leader change, a second or two.
	CodeRoutingUnavailable Code = "5503"
)

// Error is an error a client may see: a code of the table and a message safe
// to show. Internal failures are wrapped as CodeInternal and their details are
// logged, never shown.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: its own, CodeTimeout for a deadline
// that passed, CodeDisconnected for a store that is gone, CodeInternal for
// any other error.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	case errors.Is(err, ErrUnavailable):
		return CodeDisconnected
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "the server timed out"
	case errors.Is(err, ErrUnavailable):
		return "the server is shutting down or lost its store"
	}
	return "internal server error"
}

// Sentinel errors stores return; callers turn them into coded errors.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrUnavailable means the store is closed or unreachable.
	ErrUnavailable = errors.New("store unavailable")
)
