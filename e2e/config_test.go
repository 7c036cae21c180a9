package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
)

// shopWidgets is the widget configuration of the shop entry, in JSON (which
// YAML accepts as is) so the test can compare what the API serves with it.
const shopWidgets = `[{"name":"chat","urls":["https://shop.example.com/chat.js"],
"definition":{"contact_tab":{"enabled":true,"location":"bottom_left","color":"#000000",
"bg_color":"#ffcc00","agents_available_msg":"Ask us anything","agents_not_available_msg":"Back soon",
"out_of_hours_msg":"Closed","show_ewt_out_of_hours":true}},"styles":{"font_family":"Georgia","radius":4}}]`

// shopConfig defines a second tenant next to the demo.
const shopConfig = `
tenants:
  - host: Shop.Example.com
    name: Example shop
    entries:
      - app_id: shop-web
        name: Shop web chat
        parameters:
          - {name: phone, type: PHONE}
          - {name: account, type: ACCOUNT}
          - {name: company, type: COMPANY}
        cors_origins: ["https://shop.example.com"]
        ice_servers:
          - urls: ["stun:stun.shop.example.com:3478"]
          - urls: ["turn:turn.shop.example.com:3478?transport=udp", "turns:turn.shop.example.com:5349"]
            username: parley
            credential: s3cret
        files:
          max_size: 2048
        widgets: ` + shopWidgets + `
`

// TestConfigFile starts a server with a configuration file and checks that
// the customer API serves what the file says, next to the seeded demo.
func TestConfigFile(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	writeFile(t, cfg, shopConfig)
	srv := startServer(t, "--config", cfg)
	ctx := testContext(t)
	// The tenant is named as clients send it: any case, with a scheme.
	shop := srv.client(t, "https://SHOP.example.com/", "shop-web", "9a7b-shopper")

	params, err := shop.Parameters(ctx)
	wantParams := []client.Parameter{{Name: "phone", Type: "PHONE"}, {Name: "account", Type: "ACCOUNT"}, {Name: "company", Type: "COMPANY"}}
	if err != nil || !reflect.DeepEqual(params, wantParams) {
		t.Errorf("Parameters = %+v, %v; want %+v", params, err, wantParams)
	}

	servers, err := shop.ICEServers(ctx)
	wantServers := []client.ICEServer{
		{URL: "stun:stun.shop.example.com:3478", URLs: []string{"stun:stun.shop.example.com:3478"}},
		{
			URL:      "turn:turn.shop.example.com:3478?transport=udp",
			URLs:     []string{"turn:turn.shop.example.com:3478?transport=udp", "turns:turn.shop.example.com:5349"},
			Username: "parley", Credential: "s3cret",
		},
	}
	if err != nil || !reflect.DeepEqual(servers, wantServers) {
		t.Errorf("ICEServers = %+v, %v\nwant %+v", servers, err, wantServers)
	}

	conf, err := shop.Configuration(ctx)
	if err != nil {
		t.Fatalf("Configuration: %v", err)
	}
	assertSameJSON(t, "configuration widgets", widgetsOf(t, conf.Raw), []byte(shopWidgets))

	t.Run("uploads over the entry's size limit are refused", func(t *testing.T) {
		if _, err := shop.UploadFile(ctx, "small.png", bytes.NewReader(pngImage(t))); err != nil {
			t.Errorf("upload under the limit: %v", err)
		}
		big := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 4096)...)
		_, err := shop.UploadFile(ctx, "big.png", bytes.NewReader(big))
		if !client.HasStatus(err, http.StatusBadRequest) || !client.HasCode(err, client.CodeTooLarge) {
			t.Errorf("upload over the 2048 byte limit: err = %v, want 400/5501", err)
		}
	})

	t.Run("browsers of the entry's origins may call the API", func(t *testing.T) {
		for _, tc := range []struct {
			origin  string
			status  int
			allowed string
		}{
			{"https://shop.example.com", http.StatusOK, "https://shop.example.com"},
			{"https://elsewhere.example", http.StatusForbidden, ""},
		} {
			status, allowed := preflight(ctx, t, srv, "shop.example.com", tc.origin)
			if status != tc.status || allowed != tc.allowed {
				t.Errorf("preflight from %s = %d, Access-Control-Allow-Origin %q; want %d, %q", tc.origin, status, allowed, tc.status, tc.allowed)
			}
		}
	})

	t.Run("the demo is seeded next to the configured tenant", func(t *testing.T) {
		if _, err := srv.demoClient(t, "9a7b-shopper").Availability(ctx); err != nil {
			t.Errorf("demo Availability: %v", err)
		}
	})

	t.Run("an invalid file keeps the server from starting", testInvalidConfigFile)
}

// preflight sends a browser's CORS preflight for Request Chat and returns
// the status and the allowed origin.
func preflight(ctx context.Context, t *testing.T, srv *server, tenant, origin string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, srv.URL+"/clientweb/api/v2/chats?tenantUrl="+tenant, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("preflight: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin")
}

// testInvalidConfigFile checks that `parley serve` refuses to start on a
// configuration it cannot apply, and says why.
func testInvalidConfigFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string // "" means no file at that path
		want   []string
	}{
		{
			name:   "a misspelt key is refused rather than ignored",
			config: "tenants:\n  - host: shop.example.com\n    entries:\n      - app_id: shop-web\n        cors_origin: [\"*\"]\n",
			want:   []string{"parse config", `unknown field "cors_origin"`},
		},
		{
			name:   "a parameter of an unknown type is refused",
			config: "tenants:\n  - host: shop.example.com\n    entries:\n      - app_id: shop-web\n        parameters: [{name: age, type: NUMBER}]\n",
			want:   []string{"tenant shop.example.com", `parameter "age"`, `type "NUMBER"`},
		},
		{
			name: "a missing file is refused",
			want: []string{"read config"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := filepath.Join(t.TempDir(), "parley.yaml")
			if tc.config != "" {
				writeFile(t, cfg, tc.config)
			}
			got := runParley(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--config", cfg)
			code, stderr := got.code, got.stderr
			if code == 0 {
				t.Errorf("parley serve exited 0, want a failure")
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("parley serve said:\n%s\nwant it to name %q", stderr, w)
				}
			}
			if !strings.HasPrefix(stderr, "parley: ") && !strings.Contains(stderr, "\nparley: ") {
				t.Errorf("parley serve said:\n%s\nwant a line starting with \"parley: \"", stderr)
			}
		})
	}
}

// runResult is how one run of the binary ended.
type runResult struct {
	code           int
	stdout, stderr string
}

// runParley runs the binary to its end. A run that does not end in time
// fails the test.
func runParley(t *testing.T, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environWithoutParley()
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("parley %s did not end within %v:\n%s", strings.Join(args, " "), startTimeout, stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run parley: %v", err)
	}
	return runResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}
