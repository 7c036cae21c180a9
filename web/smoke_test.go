package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browser"
	"github.com/parley-chat/parley/internal/testserver"
)

func TestHarnessSmoke(t *testing.T) {
	base := testserver.Start(t, testserver.Options{})
	b := browser.New(t)
	tab := b.NewTab("visitor")
	tab.Do(t, chromedp.Navigate(base+"/"))
	tab.WaitFor(t, "title", `document.title.includes("Parley")`)
	if got := browser.Eval[string](t, tab, `document.title`); got == "" {
		t.Fatal("no title")
	}
}
