package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/client"
)

func TestNewRefusesBaseURLsThatAreNotHTTPOrigins(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
	}{
		{"an empty base URL is refused", ""},
		{"a host without a scheme is refused", "127.0.0.1:8080"},
		{"an ftp URL is refused", "ftp://example.com"},
		{"a URL without a host is refused", "http://"},
		{"a URL with a query is refused", "http://example.com/?tenantUrl=x"},
		{"a URL with a fragment is refused", "http://example.com/#x"},
		{"a URL with credentials is refused", "http://u:p@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := client.New(tt.baseURL); err == nil {
				t.Fatalf("New(%q) = %v, want an error", tt.baseURL, c)
			}
		})
	}
}

func TestExtraHeadersAreSentOnEveryRequest(t *testing.T) {
	c, s := stubClient(t, answer{Body: "{}"},
		client.WithHeader("UserAgent", "MobileClient"),
		client.WithHeader("Cache-Control", "no-cache"))
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatalf("Version: %v", err)
	}
	got := s.only(t)
	if ua := got.Header.Get("UserAgent"); ua != "MobileClient" {
		t.Errorf("UserAgent = %q, want MobileClient", ua)
	}
	if cc := got.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
}

func TestIdsArePathEscaped(t *testing.T) {
	c, s := stubClient(t, answer{Body: `{"events":[]}`})
	if _, err := c.Poll(t.Context(), "a b/c"); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if got, want := s.only(t).Path, "/clientweb/api/v2/chats/a%20b%2Fc/events"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}

func TestEmptyIdsAreRefusedWithoutARequest(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, *client.Client) error
	}{
		{"polling no chat", func(ctx context.Context, c *client.Client) error {
			_, err := c.Poll(ctx, "")
			return err
		}},
		{"sending to no chat", func(ctx context.Context, c *client.Client) error {
			return c.SendEvents(ctx, "", client.Typing())
		}},
		{"downloading no file", func(ctx context.Context, c *client.Client) error {
			_, err := c.DownloadFile(ctx, "")
			return err
		}},
		{"a photo of no party", func(ctx context.Context, c *client.Client) error {
			_, err := c.ProfilePhoto(ctx, "c1", "")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			c, s := stubClient(t, answer{Body: "{}"})
			if err := tt.call(t.Context(), c); !errors.Is(err, client.ErrEmptyID) {
				t.Errorf("err = %v, want ErrEmptyID", err)
			}
			if n := len(s.requests()); n != 0 {
				t.Errorf("server received %d requests, want 0", n)
			}
		})
	}
}

// cookieServer issues a WebChat cookie to requests without one and reports
// which cookie each request carried.
func cookieServer(t *testing.T) (*stub, func() []string) {
	t.Helper()
	s := newStub(t, answer{
		Body:   `{"server_version":"1"}`,
		Header: http.Header{"Set-Cookie": {"parley_client=srv-issued; Path=/; HttpOnly; Secure; SameSite=None"}},
	})
	return s, func() []string {
		var got []string
		for _, r := range s.requests() {
			got = append(got, r.Header.Get("Cookie"))
		}
		return got
	}
}

func TestWebChatClientsSendBackTheServersCookie(t *testing.T) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar: %v", err)
	}
	tests := []struct {
		name string
		opts []client.Option
	}{
		{"the default http client keeps cookies for WebChat", nil},
		{"a caller's http client with a jar keeps cookies", []client.Option{client.WithHTTPClient(&http.Client{Jar: jar})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cookies := cookieServer(t)
			opts := append([]client.Option{client.WithClientID(client.WebChatClientID)}, tt.opts...)
			c := newClient(t, s.srv.URL, opts...)
			for range 2 {
				if _, err := c.Version(t.Context()); err != nil {
					t.Fatalf("Version: %v", err)
				}
			}
			if got, want := cookies(), []string{"", "parley_client=srv-issued"}; !reflect.DeepEqual(got, want) {
				t.Errorf("cookies sent = %q, want %q", got, want)
			}
			if a := s.requests()[0].Header.Get("Authorization"); !strings.HasSuffix(a, "clientId=WebChat") {
				t.Errorf("Authorization = %q, want clientId=WebChat", a)
			}
		})
	}
}

func TestCancelingTheContextEndsAPendingPoll(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before the server closes
	c := newClient(t, srv.URL)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Poll(ctx, "c1")
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Poll err = %v, want context.Canceled", err)
	}
}

func TestAnAlreadyCanceledContextSendsNothing(t *testing.T) {
	c, s := stubClient(t, answer{Body: "{}"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.SendEvents(ctx, "c1", client.Typing()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("server received %d requests, want 0", n)
	}
}

func TestOneClientServesConcurrentCallers(t *testing.T) {
	c, s := stubClient(t, answer{Body: `{"events":[]}`})
	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := c.Poll(t.Context(), "c1")
				errs <- err
				return
			}
			errs <- c.SendEvents(t.Context(), "c1", client.Message("m", "hi"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("call: %v", err)
		}
	}
	if n := len(s.requests()); n != callers {
		t.Errorf("server received %d requests, want %d", n, callers)
	}
}

func TestConfigReportsTheSettingsInUse(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	cfg := c.Config()
	if cfg.BaseURL != "http://127.0.0.1:1" || cfg.Tenant != testTenant || cfg.AppID != testAppID || cfg.ClientID != testClientID {
		t.Errorf("Config() = %+v", cfg)
	}
	if cfg.HTTPClient == nil || cfg.HTTPClient.Timeout == 0 {
		t.Errorf("default HTTPClient = %+v, want one with a timeout", cfg.HTTPClient)
	}
}
