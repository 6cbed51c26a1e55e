package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"portier/testkit"
)

// The first journey: open the portal, switch the language, and see the other language stick.
func TestJourneyLanguageSwitch(t *testing.T) {
	p := startPortier(t, nil)
	b := testkit.Browser(t)
	if st := b.Navigate(p.BaseURL + "/"); st != 200 {
		t.Fatalf("status %d", st)
	}
	start := testkit.Eval[string](b, `document.documentElement.lang`)
	other, want := "de", "Willkommen"
	if start == "de" {
		other, want = "en", "Welcome"
	}
	b.Click(`[data-testid="lang-` + other + `"]`)
	b.WaitVisible(`html[lang="` + other + `"]`)
	if h := b.Text("h1"); !strings.Contains(h, want) {
		t.Fatalf("after switching to %s: %q", other, h)
	}
	b.Axe()
	// It sticks on the next page view.
	b.Navigate(p.BaseURL + "/")
	if got := testkit.Eval[string](b, `document.documentElement.lang`); got != other {
		t.Fatalf("language did not stick: %q", got)
	}
	// Keyboard: the skip link is the first thing Tab reaches.
	b.Do(chromedp.KeyEvent(kb.Tab))
	if got := testkit.Eval[string](b, `document.activeElement.className`); got != "skip-link" {
		t.Fatalf("first Tab stop: %q", got)
	}
	b.Navigate(p.BaseURL + "/login")
	b.Axe()
	b.Navigate(p.BaseURL + "/forgot")
	b.Axe()
	b.Navigate(p.BaseURL + "/terms")
	b.Axe()
	// No script errors, nothing blocked by the CSP.
	for _, line := range b.Console() {
		if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception") || strings.HasPrefix(line, "error") {
			t.Errorf("console: %s", line)
		}
	}
}
