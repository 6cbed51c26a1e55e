// Package testkit holds helpers for tests across the repository: a headless
// Chromium driven with chromedp (browser.go) and an SMTP server that collects
// the mail the product sends (smtp.go).
//
// The browser helpers fail the test on error (t.Fatalf with the selector), so
// a test reads as straight-line code:
//
//	b := testkit.Browser(t)
//	b.Navigate(srv.URL + "/login")
//	b.SetValue("#email", "ann@example.com")
//	b.Click("button[type=submit]")
//	b.WaitVisible("#welcome")
//	if got := b.Text("#welcome"); got != "Hello Ann" { t.Errorf(...) }
package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserTimeout is the time each test gets for all its browser actions
// together. The clock starts when [Browser] returns.
var BrowserTimeout = 60 * time.Second

// ActionTimeout limits each helper call (Click, Text, Eval, …), so that a
// missing element fails the test quickly with its selector rather than at
// BrowserTimeout.
var ActionTimeout = 15 * time.Second

// BrowserT is one headless Chromium with one tab, owned by one test. Every
// test gets its own browser process and a fresh profile (cookies, storage,
// passkeys), so tests may run in parallel. It is not safe for use by several
// goroutines at once.
type BrowserT struct {
	t   testing.TB
	ctx context.Context // tab context with the per-test deadline
	tab context.Context // tab context without deadline (used for artifacts)

	mu      sync.Mutex
	console []string      // console messages and uncaught exceptions
	output  *lockedBuffer // stdout+stderr of the browser process
}

// FindChromium returns the path of a Chromium binary: the env variable
// PORTIER_CHROMIUM, else /usr/bin/chromium, else chromium, chromium-browser or
// google-chrome in PATH. It returns "" when none is found.
func FindChromium() string {
	if p := os.Getenv("PORTIER_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser starts a headless Chromium for the test and returns it. The browser
// stops when the test ends. If the test failed, a full-page PNG screenshot,
// the page HTML, the console messages and the browser output are saved to
// $PORTIER_ARTIFACTS (default: <os.TempDir()>/portier-artifacts) and the path
// is logged.
//
// Without Chromium the test is skipped, or fails when CI=true.
func Browser(t testing.TB) *BrowserT {
	t.Helper()
	exe := FindChromium()
	if exe == "" {
		const msg = "Chromium not found (set PORTIER_CHROMIUM or install /usr/bin/chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; run the README test command which installs it")
		}
		t.Skip(msg + "; skipping browser test")
	}

	b := &BrowserT{t: t, output: &lockedBuffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // we run as root in containers
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(b.output),
		// No UserDataDir: chromedp then creates a fresh profile directory
		// per browser and, after the browser exits, kills Chrome helper
		// processes still using it and removes it (with retries). A
		// directory in t.TempDir() would race with those helpers and make
		// t.TempDir's cleanup fail intermittently.
	)

	// The browser lives as long as these contexts, not as long as the
	// deadline: background, because t.Context() ends before Cleanup runs and
	// the artifacts need the tab.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	glog := &guardedLog{t: t}
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(glog.logf), chromedp.WithErrorf(glog.logf))

	start := time.Now()
	// Starts the browser and opens the tab. No timeout here: the first Run
	// binds the life of the browser to the context it gets, so a context
	// with a deadline would kill Chrome when the deadline passes.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		glog.stop()
		t.Fatalf("testkit: start Chromium %s: %v\nbrowser output:\n%s", exe, err, b.output.String())
	}
	// Console must subscribe from this goroutine, after the tab exists.
	console := chromedp.Console(tab)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m.String())
			b.mu.Unlock()
		}
	}()

	ctx, cancelTimeout := context.WithTimeout(tab, BrowserTimeout)
	b.ctx, b.tab = ctx, tab
	t.Cleanup(func() {
		if t.Failed() {
			b.saveArtifacts()
		}
		cancelTimeout()
		// Cancel closes Chrome gracefully and waits for it and its profile
		// directory to be gone.
		cctx, cc := context.WithTimeout(tab, 10*time.Second)
		defer cc()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("testkit: closing Chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
		glog.stop()
	})
	t.Logf("testkit: Chromium started in %v", time.Since(start).Round(time.Millisecond))
	return b
}

// Context returns the chromedp context of the tab, with the per-test
// deadline. Use it with chromedp.Run, chromedp.Do and chromedp.Call for what
// the helpers do not cover.
func (b *BrowserT) Context() context.Context { return b.ctx }

// run runs one action with the ActionTimeout and fails the test on error,
// with the message what (plus args) before the error.
func run[T any](b *BrowserT, a chromedp.Action[T], what string, args ...any) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("testkit: "+what+": %v", append(args, err)...)
	}
	return v
}

// Do runs chromedp actions in the tab, in order, and fails the test on
// error. The whole call gets ActionTimeout.
func (b *BrowserT) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, chromedp.Steps(actions...), "browser actions")
}

// Navigate loads url, waits for the load event and returns the HTTP status of
// the document.
func (b *BrowserT) Navigate(url string) int {
	b.t.Helper()
	resp := run(b, chromedp.NavigateResponse(url), "navigate to %s", url)
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// Click waits until the first element matching the CSS selector is visible
// and clicks its center with the mouse. It does not wait for a navigation
// that the click starts; follow it with WaitVisible on the next page.
func (b *BrowserT) Click(sel string) {
	b.t.Helper()
	run(b, chromedp.Click(chromedp.CSS(sel)), "click %q", sel)
}

// SetValue sets the value property of the first element matching the CSS
// selector, without key events (use SendKeys for those).
func (b *BrowserT) SetValue(sel, value string) {
	b.t.Helper()
	run(b, chromedp.SetValue(chromedp.CSS(sel), value), "set value of %q", sel)
}

// SendKeys focuses the first visible element matching the CSS selector and
// types text as key events ("\n" is Enter).
func (b *BrowserT) SendKeys(sel, text string) {
	b.t.Helper()
	run(b, chromedp.SendKeys(chromedp.CSS(sel), text), "send keys to %q", sel)
}

// Text returns the visible text (innerText) of the first element matching
// the CSS selector, waiting until it exists.
func (b *BrowserT) Text(sel string) string {
	b.t.Helper()
	return run(b, chromedp.Text(chromedp.CSS(sel)), "text of %q", sel)
}

// Value returns the value property of the first element matching the CSS
// selector.
func (b *BrowserT) Value(sel string) string {
	b.t.Helper()
	return run(b, chromedp.Value(chromedp.CSS(sel)), "value of %q", sel)
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (b *BrowserT) WaitVisible(sel string) {
	b.t.Helper()
	run(b, chromedp.WaitVisible(chromedp.CSS(sel)), "wait for %q to be visible", sel)
}

// WaitGone waits until no element matches the CSS selector.
func (b *BrowserT) WaitGone(sel string) {
	b.t.Helper()
	run(b, chromedp.WaitNotPresent(chromedp.CSS(sel)), "wait for %q to disappear", sel)
}

// Location returns the URL of the current document.
func (b *BrowserT) Location() string {
	b.t.Helper()
	return run(b, chromedp.Location(), "location")
}

// HTML returns the outer HTML of the current document.
func (b *BrowserT) HTML() string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[string](`document.documentElement.outerHTML`), "page HTML")
}

// Console returns the console messages and uncaught exceptions of the tab so
// far, one per line, e.g. "log: page ready" or "error: Failed to load resource…".
// Messages arrive asynchronously; ones logged just now may be missing.
func (b *BrowserT) Console() []string {
	time.Sleep(50 * time.Millisecond) // let the event goroutine catch up
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Eval evaluates the JavaScript expression in the page, awaits it if it is a
// promise, and decodes the result into T (JSON rules, exact field names in
// `json` tags; use chromedp.Void to ignore the result). A thrown exception
// or a rejected promise fails the test.
func Eval[T any](b *BrowserT, js string) T {
	b.t.Helper()
	return run(b, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise), "eval %s", abbrev(js))
}

// Screenshot saves a full-page PNG screenshot to path.
func (b *BrowserT) Screenshot(path string) {
	b.t.Helper()
	png := run(b, chromedp.FullScreenshot(100), "screenshot") // quality 100 = PNG
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("testkit: screenshot: %v", err)
	}
}

// ArtifactsDir returns $PORTIER_ARTIFACTS, or <os.TempDir()>/portier-artifacts.
func ArtifactsDir() string {
	if d := os.Getenv("PORTIER_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "portier-artifacts")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// saveArtifacts writes <test>.png, <test>.html, <test>.console.txt and
// <test>.browser.log. It runs in Cleanup of a failed test, so it reports its
// own problems with Logf only; the per-test deadline may have passed, so it
// uses the tab context with a fresh short timeout.
func (b *BrowserT) saveArtifacts() {
	t := b.t
	dir := ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("testkit: artifacts: %v", err)
		return
	}
	base := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_"))
	ctx, cancel := context.WithTimeout(b.tab, 10*time.Second)
	defer cancel()
	var saved []string
	write := func(suffix string, data []byte) {
		if err := os.WriteFile(base+suffix, data, 0o644); err != nil {
			t.Logf("testkit: artifacts: %v", err)
			return
		}
		saved = append(saved, base+suffix)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Logf("testkit: artifacts: screenshot: %v", err)
	} else {
		write(".png", png)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil {
		t.Logf("testkit: artifacts: html: %v", err)
	} else {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			html = "<!-- " + loc + " -->\n" + html
		}
		write(".html", []byte(html))
	}
	b.mu.Lock()
	console := strings.Join(b.console, "\n")
	b.mu.Unlock()
	write(".console.txt", []byte(console))
	write(".browser.log", []byte(b.output.String()))
	if len(saved) > 0 {
		t.Logf("testkit: browser artifacts saved:\n  %s", strings.Join(saved, "\n  "))
	}
}

func abbrev(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use (browser output is
// written from chromedp's goroutine).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// guardedLog forwards chromedp's log lines to t.Logf until stop is called:
// t.Logf panics once the test has finished, and chromedp's reader goroutine
// can log while the browser shuts down.
type guardedLog struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (g *guardedLog) logf(format string, args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped {
		g.t.Logf("chromedp: "+format, args...)
	}
}

func (g *guardedLog) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
}
