// Package browser runs headless Chromium (Debian's chromium package) through
// chromedp for tests of the widget and the console. Each test gets its own
// browser; NewTab opens an isolated browser context in it (its own cookies
// and storage), so a customer and an agent can share one browser process.
// A failing test leaves a screenshot of every tab in testdata/screenshots.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds the Chromium binary: $CHROMIUM, or chromium on the PATH.
func Path() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium found: install Debian's chromium package (.ci/run does)")
}

// Browser is one headless Chromium process.
type Browser struct {
	t        *testing.T
	alloc    context.Context
	mu       sync.Mutex
	tabs     []*Tab
	shotsDir string
}

// New starts Chromium for the test. Without a Chromium binary the test is
// skipped, unless CI is set: CI installs one, so there it is a failure.
func New(t *testing.T) *Browser {
	t.Helper()
	path, err := Path()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{t: t, alloc: alloc, shotsDir: filepath.Join("testdata", "screenshots")}
	t.Cleanup(cancel)
	return b
}

// Tab is one page in its own browser context.
type Tab struct {
	Ctx    context.Context
	name   string
	mu     sync.Mutex
	errors []string
}

// NewTab opens a page in a fresh browser context (separate cookies and
// storage). Console errors and uncaught exceptions of the page are kept.
func (b *Browser) NewTab(name string) *Tab {
	b.t.Helper()
	b.mu.Lock()
	var ctx context.Context
	var cancel context.CancelFunc
	if len(b.tabs) == 0 {
		ctx, cancel = chromedp.NewContext(b.alloc)
	} else {
		ctx, cancel = chromedp.NewContext(b.tabs[0].Ctx, chromedp.WithNewBrowserContext())
	}
	b.mu.Unlock()
	tab := &Tab{Ctx: ctx, name: name}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				tab.record(m.String())
			}
		}
	}()
	b.mu.Lock()
	b.tabs = append(b.tabs, tab)
	b.mu.Unlock()
	// Cleanups run last-in first-out: the screenshot of a failed test is
	// taken here, while the tab still lives.
	b.t.Cleanup(func() {
		if b.t.Failed() {
			b.screenshot(tab)
		}
		cancel()
	})
	return tab
}

func (tab *Tab) record(msg string) {
	tab.mu.Lock()
	tab.errors = append(tab.errors, msg)
	tab.mu.Unlock()
}

// Errors returns the console errors and exceptions seen so far.
func (tab *Tab) Errors() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.errors...)
}

// Do runs chromedp steps in the tab with a deadline.
func (tab *Tab) Do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", tab.name, err)
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its value.
func Eval[T any](t *testing.T, tab *Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: eval %q: %v", tab.name, expr, err)
	}
	return v
}

// WaitFor evaluates expr until it is truthy, failing the test after the
// deadline with what: the page is asynchronous, and so are the servers.
func (tab *Tab) WaitFor(t *testing.T, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tab.Ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: waiting for %s: %s stayed false (last error: %v)", tab.name, what, expr, err)
		}
		time.Sleep(50 * time.Millisecond) // polling interval of the condition, not a wait for an event
	}
}

// Screenshot saves a PNG of the tab's viewport to path.
func (tab *Tab) Screenshot(path string) error {
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (b *Browser) screenshot(tab *Tab) {
	name := unsafeName.ReplaceAllString(b.t.Name()+"-"+tab.name, "_") + ".png"
	path := filepath.Join(b.shotsDir, name)
	if err := tab.Screenshot(path); err != nil {
		b.t.Logf("screenshot of %s: %v", tab.name, err)
		return
	}
	b.t.Logf("screenshot of %s saved to %s", tab.name, path)
}
