package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrBadResponse is wrapped by the errors of answers that break the wire
// contract: a 200 whose body is not a JSON object, or fields of the wrong
// type. The SDKs drop or crash on such answers.
var ErrBadResponse = errors.New("answer breaks the API contract")

// Error codes of the spec's table (§2), as APIError.Code holds them.
const (
	CodeTenant          = "1000" // missing or unknown tenantUrl
	CodeNoAuth          = "2000" // no Authorization header
	CodeAuthMalformed   = "2001" // Authorization header malformed
	CodeAuthScheme      = "2002" // wrong authorization scheme
	CodeNoAppID         = "2003" // appId missing
	CodeNoClientID      = "2004" // clientId missing
	CodeUnknownApp      = "3000" // appId unknown for this tenant, or entry disabled
	CodeTimeout         = "5000" // server timeout
	CodeUnavailable     = "5001" // no server available to accept the chat
	CodeInvalid         = "5003" // invalid JSON or request body
	CodeDisconnected    = "5004" // server disconnected
	CodeChatNotFound    = "5005" // chat not found, ended, or not this client's
	CodeEntryNotFound   = "5006" // scenario entry not found
	CodeInternal        = "5500" // internal server error
	CodeTooLarge        = "5501" // upload size limit exceeded
	CodeFileNotFound    = "5502" // file not found
	CodeTooManyPolls    = "5509" // too many concurrent polls
	CodeFileRefused     = "5558" // file operation error
	CodeNoCase          = "5601" // this chat has no case
	CodeCRM             = "5602" // CRM server error
	CodePushUnsupported = "5603" // push token kinds wrong or not configured
	CodeUnspecified     = "5955" // unspecified server error

	// CodeRateLimited is Parley's own: the client or its address sends
	// more requests than the server's rate limits allow (status 429).
	CodeRateLimited = "5429"
)

// APIError is a non-200 answer. Code and Message come from the
// {"error_code","error_message"} body when it has that shape; they are empty
// otherwise (an error_code that is not a JSON string is not a code: iOS
// loses it too). Body keeps the start of the raw answer.
type APIError struct {
	Status  int
	Code    string
	Message string
	Body    []byte
}

// Error renders the status, the code and the message.
func (e *APIError) Error() string {
	switch {
	case e.Code != "":
		return fmt.Sprintf("api error: status %d, code %s: %s", e.Status, e.Code, e.Message)
	case len(e.Body) > 0:
		return fmt.Sprintf("api error: status %d: %s", e.Status, snippet(e.Body))
	default:
		return fmt.Sprintf("api error: status %d %s", e.Status, http.StatusText(e.Status))
	}
}

// readAPIError turns a non-200 answer into an *APIError.
func readAPIError(resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return fmt.Errorf("read error answer (status %d): %w", resp.StatusCode, err)
	}
	e := &APIError{Status: resp.StatusCode, Body: b}
	var body struct {
		Code    json.RawMessage `json:"error_code"`
		Message json.RawMessage `json:"error_message"`
	}
	if json.Unmarshal(b, &body) == nil {
		// Each field is taken only when it is a JSON string.
		_ = json.Unmarshal(body.Code, &e.Code)
		_ = json.Unmarshal(body.Message, &e.Message)
	}
	return e
}

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether err is a 404 answer: an unknown, ended or
// foreign chat (5005), a missing file or photo.
func IsNotFound(err error) bool { return HasStatus(err, http.StatusNotFound) }

// HasStatus reports whether err is an answer with the given HTTP status.
func HasStatus(err error, status int) bool {
	e, ok := AsAPIError(err)
	return ok && e.Status == status
}

// HasCode reports whether err is an answer with the given error code.
func HasCode(err error, code string) bool {
	e, ok := AsAPIError(err)
	return ok && e.Code == code
}
