package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/client"
)

func TestNonOKAnswersBecomeAPIErrors(t *testing.T) {
	tests := []struct {
		name string
		ans  answer
		want client.APIError
	}{
		{"a 404 with the chat code",
			answer{Status: 404, Body: `{"error_code":"5005","error_message":"chat not found"}`},
			client.APIError{Status: 404, Code: "5005", Message: "chat not found"}},
		{"a 401 for a missing header",
			answer{Status: 401, Body: `{"error_code":"2000","error_message":"no Authorization header"}`},
			client.APIError{Status: 401, Code: "2000", Message: "no Authorization header"}},
		{"a 403 for an unknown tenant",
			answer{Status: 403, Body: `{"error_code":"1000","error_message":"unknown tenant"}`},
			client.APIError{Status: 403, Code: "1000", Message: "unknown tenant"}},
		{"a numeric error code that iOS would lose",
			answer{Status: 503, Body: `{"error_code":5001,"error_message":"busy"}`},
			client.APIError{Status: 503, Message: "busy"}},
		{"a body that is not JSON",
			answer{Status: 502, Body: "Bad Gateway"},
			client.APIError{Status: 502}},
		{"a 204 that is no success",
			answer{Status: 204},
			client.APIError{Status: 204}},
		{"a 201 that is no success",
			answer{Status: 201, Body: `{}`},
			client.APIError{Status: 201}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an APIError", func(t *testing.T) {
			c, _ := stubClient(t, tt.ans)
			_, err := c.Version(t.Context())
			e, ok := client.AsAPIError(err)
			if !ok {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if e.Status != tt.want.Status || e.Code != tt.want.Code || e.Message != tt.want.Message {
				t.Errorf("APIError = {%d %q %q}, want {%d %q %q}",
					e.Status, e.Code, e.Message, tt.want.Status, tt.want.Code, tt.want.Message)
			}
			if string(e.Body) != tt.ans.Body {
				t.Errorf("Body = %q, want %q", e.Body, tt.ans.Body)
			}
			if !strings.HasPrefix(err.Error(), "get version: ") {
				t.Errorf("err %q does not name the operation", err)
			}
		})
	}
}

func TestErrorHelpersLookThroughWrapping(t *testing.T) {
	notFound := &client.APIError{Status: 404, Code: client.CodeChatNotFound}
	tests := []struct {
		name                  string
		err                   error
		wantNotFound          bool
		wantCode5005, want404 bool
	}{
		{"a wrapped 404/5005 is found by every helper", errWrap(notFound), true, true, true},
		{"a 406 is neither not found nor 5005", errWrap(&client.APIError{Status: 406, Code: client.CodeNoCase}), false, false, false},
		{"a plain error is no API error", errors.New("boom"), false, false, false},
		{"nil is no API error", nil, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := client.IsNotFound(tt.err); got != tt.wantNotFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.wantNotFound)
			}
			if got := client.HasCode(tt.err, client.CodeChatNotFound); got != tt.wantCode5005 {
				t.Errorf("HasCode(5005) = %v, want %v", got, tt.wantCode5005)
			}
			if got := client.HasStatus(tt.err, 404); got != tt.want404 {
				t.Errorf("HasStatus(404) = %v, want %v", got, tt.want404)
			}
		})
	}
}

func errWrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestAPIErrorMessagesNameStatusAndCode(t *testing.T) {
	tests := []struct {
		name string
		err  client.APIError
		want string
	}{
		{"a coded error shows code and message", client.APIError{Status: 404, Code: "5005", Message: "chat not found"},
			"api error: status 404, code 5005: chat not found"},
		{"an uncoded error shows the body", client.APIError{Status: 502, Body: []byte("Bad Gateway")},
			"api error: status 502: Bad Gateway"},
		{"an empty error shows the status text", client.APIError{Status: 204},
			"api error: status 204 No Content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOKAnswersThatAreNotObjectsBreakTheContract(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"an empty body", ""},
		{"a bare array", `[]`},
		{"null", `null`},
		{"a string", `"ok"`},
		{"text", `ok`},
		{"a truncated object", `{"server_version":`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a bad response", func(t *testing.T) {
			c, _ := stubClient(t, answer{Body: tt.body})
			if _, err := c.Version(t.Context()); !errors.Is(err, client.ErrBadResponse) {
				t.Errorf("Version err = %v, want ErrBadResponse", err)
			}
			if err := c.SendEvents(t.Context(), "c1", client.Typing()); !errors.Is(err, client.ErrBadResponse) {
				t.Errorf("SendEvents err = %v, want ErrBadResponse", err)
			}
		})
	}
}
