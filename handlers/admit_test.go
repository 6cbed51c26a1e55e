package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"portier/admit"
)

// While every place at the gate is taken, a page waits its turn and, after the longest wait, is told in
// the person's language to try again (503 with Retry-After); health checks and static files never wait.
func TestBusyGateAnswersPagesInTheirLanguageAndNeverHoldsUpHealthChecks(t *testing.T) {
	e := newTestEnv(t)
	e.srv.gate = admit.New(1, 50*time.Millisecond)
	_, leave, err := e.srv.gate.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []struct{ accept, want string }{{"de", "stark ausgelastet"}, {"en", "Very busy right now"}} {
		resp, body := e.get("/login", map[string]string{"Accept-Language": lang.accept})
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" || !strings.Contains(body, lang.want) {
			t.Fatalf("%s: a page at a full gate: %d, Retry-After %q, page %q…", lang.accept, resp.StatusCode, resp.Header.Get("Retry-After"), body[:min(len(body), 200)])
		}
		if strings.Contains(body, "error.busy") {
			t.Fatal("a translation key reached the page")
		}
	}
	_, page := e.get("/login", nil) // 503 again, but it names the stylesheet
	href := doc(t, page).Find(`link[rel=stylesheet]`).AttrOr("href", "")
	for _, path := range []string{"/healthz", "/readyz", href} {
		resp, _ := e.get(path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s behind a full gate: %d, want 200", path, resp.StatusCode)
		}
	}
	leave()
	if resp, _ := e.get("/login", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the place came free: %d", resp.StatusCode)
	}
}

// A burst far larger than the gate's places is served completely, one place at a time, and leaves every
// place free afterwards.
func TestParallelPagesThroughANarrowGate(t *testing.T) {
	e := newTestEnv(t)
	e.srv.gate = admit.New(1, 0)
	var failed atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			resp, err := e.client.Get(e.URL("/login"))
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of 40 pages failed", failed.Load())
	}
	if e.srv.gate.Waiting() != 0 {
		t.Fatalf("%d still waiting", e.srv.gate.Waiting())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, leave, err := e.srv.gate.Enter(ctx)
	if err != nil {
		t.Fatalf("the place was not given back: %v", err)
	}
	leave()
}

// A form body that arrives slowly is read before the gate, whatever its encoding: a multipart form (or
// any body) sent byte by byte to an ordinary route must not hold a place while the handler reads it, or a
// few such connections would keep every page out until the server's read timeout.
func TestSlowBodiesAreReadBeforeTheGate(t *testing.T) {
	e := newTestEnv(t)
	e.srv.gate = admit.New(1, 300*time.Millisecond)
	var pipes []*io.PipeWriter
	defer func() {
		for _, pw := range pipes {
			pw.CloseWithError(errors.New("test over"))
		}
	}()
	for _, ct := range []string{"multipart/form-data; boundary=XYZ", "application/json"} {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		req, err := http.NewRequest(http.MethodPost, e.URL("/login"), pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ct)
		go func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		go pw.Write([]byte("--XYZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na")) // and then nothing
	}
	time.Sleep(200 * time.Millisecond)
	if resp, _ := e.get("/login", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a page behind two half-sent forms: %d, want 200", resp.StatusCode)
	}
}

// Only the sending of an upload skips the gate: the pages of the upload forms (the CSV import, the
// profile picture) are pages like any other and wait their turn.
func TestUploadFormPagesWaitAtTheGate(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("Kunde A", "kunde-a")
	e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	e.login("admin@msp.example", testPassword)
	if resp, _ := e.get("/o/"+org.Slug+"/import/passwords", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the import page: %d", resp.StatusCode)
	}
	e.srv.gate = admit.New(1, 50*time.Millisecond)
	_, leave, err := e.srv.gate.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer leave()
	if resp, _ := e.get("/o/"+org.Slug+"/import/passwords", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("the import page at a full gate: %d, want 503", resp.StatusCode)
	}
}

// A handler that panics gives its place back (the panic unwinds through the gate's middleware), and so
// does one that panics while outside the gate, waiting for the writer or a hash.
func TestAPanickingHandlerGivesItsPlaceBack(t *testing.T) {
	e := newTestEnv(t)
	e.srv.gate = admit.New(1, 200*time.Millisecond)
	e.srv.e.GET("/test-panic", func(c *echo.Context) error { panic("handler bug") })
	e.srv.e.GET("/test-panic-outside", func(c *echo.Context) error {
		admit.Outside(c.Request().Context(), func() { panic("bug while waiting") })
		return nil
	})
	for _, path := range []string{"/test-panic", "/test-panic-outside", "/test-panic"} {
		if resp, err := e.client.Get(e.URL(path)); err == nil {
			resp.Body.Close()
		}
		if resp, _ := e.get("/login", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("after a panic in %s: %d", path, resp.StatusCode)
		}
	}
}
