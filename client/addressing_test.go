package client_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley/client"
)

// apiCalls is one call of every API method, each with the request it must
// make; "{}" answers all of them.
var apiCalls = []struct {
	name       string
	call       func(context.Context, *client.Client) error
	method     string
	path       string
	extraQuery url.Values
}{
	{"Version is GET version", func(ctx context.Context, c *client.Client) error {
		_, err := c.Version(ctx)
		return err
	}, "GET", "/clientweb/api/v2/version", nil},
	{"Availability is GET availability", func(ctx context.Context, c *client.Client) error {
		_, err := c.Availability(ctx)
		return err
	}, "GET", "/clientweb/api/v2/availability", nil},
	{"ICEServers is GET iceservers", func(ctx context.Context, c *client.Client) error {
		_, err := c.ICEServers(ctx)
		return err
	}, "GET", "/clientweb/api/v2/iceservers", nil},
	{"Configuration is GET configuration", func(ctx context.Context, c *client.Client) error {
		_, err := c.Configuration(ctx)
		return err
	}, "GET", "/clientweb/api/v2/configuration", nil},
	{"Parameters is GET parameters", func(ctx context.Context, c *client.Client) error {
		_, err := c.Parameters(ctx)
		return err
	}, "GET", "/clientweb/api/v2/parameters", nil},
	{"RequestChat is POST chats", func(ctx context.Context, c *client.Client) error {
		_, err := c.RequestChat(ctx, client.ChatRequest{})
		return err
	}, "POST", "/clientweb/api/v2/chats", nil},
	{"ActiveChat is GET chats/active", func(ctx context.Context, c *client.Client) error {
		_, err := c.ActiveChat(ctx)
		return err
	}, "GET", "/clientweb/api/v2/chats/active", nil},
	{"Subscribe is POST chats/{id}/notifications", func(ctx context.Context, c *client.Client) error {
		return c.Subscribe(ctx, "c1", client.Subscription{})
	}, "POST", "/clientweb/api/v2/chats/c1/notifications", nil},
	{"SendEvents is POST chats/{id}/events", func(ctx context.Context, c *client.Client) error {
		return c.SendEvents(ctx, "c1", client.Typing())
	}, "POST", "/clientweb/api/v2/chats/c1/events", nil},
	{"Poll is GET chats/{id}/events", func(ctx context.Context, c *client.Client) error {
		_, err := c.Poll(ctx, "c1")
		return err
	}, "GET", "/clientweb/api/v2/chats/c1/events", nil},
	{"PollAfter is GET chats/{id}/events with after", func(ctx context.Context, c *client.Client) error {
		_, err := c.PollAfter(ctx, "c1", 42)
		return err
	}, "GET", "/clientweb/api/v2/chats/c1/events", url.Values{"after": {"42"}}},
	{"History is GET chats/{id}/history", func(ctx context.Context, c *client.Client) error {
		_, err := c.History(ctx, "c1")
		return err
	}, "GET", "/clientweb/api/v2/chats/c1/history", nil},
	{"CaseHistory is GET chats/{id}/casehistory", func(ctx context.Context, c *client.Client) error {
		_, err := c.CaseHistory(ctx, "c1")
		return err
	}, "GET", "/clientweb/api/v2/chats/c1/casehistory", nil},
	{"LiveCaseHistory is GET casehistory", func(ctx context.Context, c *client.Client) error {
		_, err := c.LiveCaseHistory(ctx)
		return err
	}, "GET", "/clientweb/api/v2/casehistory", nil},
	{"CloseCase is POST chats/{id}/closecase", func(ctx context.Context, c *client.Client) error {
		return c.CloseCase(ctx, "c1")
	}, "POST", "/clientweb/api/v2/chats/c1/closecase", nil},
	{"CloseLiveCase is POST closecase", func(ctx context.Context, c *client.Client) error {
		return c.CloseLiveCase(ctx)
	}, "POST", "/clientweb/api/v2/closecase", nil},
	{"UploadFile is POST files", func(ctx context.Context, c *client.Client) error {
		_, err := c.UploadFile(ctx, "a.txt", strings.NewReader("x"))
		return err
	}, "POST", "/clientweb/api/v2/files", nil},
	{"DownloadChatFile is GET chats/{id}/files/{fileId}", func(ctx context.Context, c *client.Client) error {
		_, err := c.DownloadChatFile(ctx, "c1", "f1")
		return err
	}, "GET", "/clientweb/api/v2/chats/c1/files/f1", nil},
	{"ProfilePhoto is GET chats/{id}/profilephotos/{partyId}", func(ctx context.Context, c *client.Client) error {
		_, err := c.ProfilePhoto(ctx, "c1", "p1")
		return err
	}, "GET", "/clientweb/api/v2/chats/c1/profilephotos/p1", nil},
	{"Call sends any method under the prefix", func(ctx context.Context, c *client.Client) error {
		return c.Call(ctx, http.MethodGet, "chats/c1/history", url.Values{"nonce": {"1"}}, nil, nil)
	}, "GET", "/clientweb/api/v2/chats/c1/history", url.Values{"nonce": {"1"}}},
}

func TestEveryAPICallNamesTheTenantAndAuthenticates(t *testing.T) {
	for _, tt := range apiCalls {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{Body: "{}"})
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := s.only(t)
			if got.Method != tt.method || got.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, tt.method, tt.path)
			}
			wantQuery := url.Values{"tenantUrl": {testTenant}}
			for k, v := range tt.extraQuery {
				wantQuery[k] = v
			}
			if !reflect.DeepEqual(got.Query, wantQuery) {
				t.Errorf("query = %v, want %v", got.Query, wantQuery)
			}
			if auth := got.Header.Values("Authorization"); len(auth) != 1 || auth[0] != testAuth {
				t.Errorf("Authorization = %q, want [%q]", auth, testAuth)
			}
		})
	}
}

func TestRequestAddressing(t *testing.T) {
	tests := []struct {
		name      string
		base      func(srv string) string
		opts      []client.Option
		wantPath  string
		wantQuery string
		wantAuth  string
	}{
		{
			name:      "a trailing slash on the base URL adds no double slash",
			base:      func(srv string) string { return srv + "/" },
			wantPath:  "/clientweb/api/v2/version",
			wantQuery: "tenantUrl=acme.example.com",
			wantAuth:  testAuth,
		},
		{
			name:      "a path on the base URL is kept before the prefix",
			base:      func(srv string) string { return srv + "/chat/" },
			wantPath:  "/chat/clientweb/api/v2/version",
			wantQuery: "tenantUrl=acme.example.com",
			wantAuth:  testAuth,
		},
		{
			name:      "a tenant given as a URL is query-escaped",
			base:      func(srv string) string { return srv },
			opts:      []client.Option{client.WithTenant("https://acme.example.com/")},
			wantPath:  "/clientweb/api/v2/version",
			wantQuery: "tenantUrl=https%3A%2F%2Facme.example.com%2F",
			wantAuth:  testAuth,
		},
		{
			name:     "no tenant leaves tenantUrl out so the Host names it",
			base:     func(srv string) string { return srv },
			opts:     []client.Option{client.WithTenant("")},
			wantPath: "/clientweb/api/v2/version",
			wantAuth: testAuth,
		},
		{
			name:      "quoted auth quotes appId and clientId as the web script does",
			base:      func(srv string) string { return srv },
			opts:      []client.Option{client.WithQuotedAuth()},
			wantPath:  "/clientweb/api/v2/version",
			wantQuery: "tenantUrl=acme.example.com",
			wantAuth:  `MOBILE-API-140-327-PLAIN appId="app-1", clientId="6f1c2a9e-0b7d-4e51-9a43-2d8f7c1e5b60"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, answer{Body: `{"server_version":"1"}`})
			c := newClient(t, tt.base(s.srv.URL), tt.opts...)
			if _, err := c.Version(t.Context()); err != nil {
				t.Fatalf("Version: %v", err)
			}
			got := s.only(t)
			if got.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", got.Path, tt.wantPath)
			}
			if q := got.Query.Encode(); q != tt.wantQuery {
				t.Errorf("query = %q, want %q", q, tt.wantQuery)
			}
			if a := got.Header.Get("Authorization"); a != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", a, tt.wantAuth)
			}
		})
	}
}
