package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v5"
)

var nonceRE = regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/=]{16,})'`)

func TestSecurityHeadersOnEveryHTMLResponse(t *testing.T) {
	e := newTestEnv(t)
	nonces := map[string]bool{}
	for _, path := range []string{"/", "/does-not-exist", "/", "/static/nope.css"} {
		resp, body := e.get(path, nil)
		h := resp.Header
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: content type %q", path, h.Get("Content-Type"))
		}
		csp := h.Get("Content-Security-Policy")
		m := nonceRE.FindStringSubmatch(csp)
		if m == nil {
			t.Fatalf("%s: CSP without nonce: %q", path, csp)
		}
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "style-src 'self'", "img-src 'self' data:"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP lacks %q", path, want)
			}
		}
		if nonces[m[1]] {
			t.Errorf("nonce %q reused", m[1])
		}
		nonces[m[1]] = true
		// Every script tag carries the nonce of its response.
		doc(t, body).Find("script").Each(func(_ int, s *goquery.Selection) {
			if n, _ := s.Attr("nonce"); n != m[1] {
				t.Errorf("%s: script without the response's nonce: %q", path, n)
			}
		})
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cross-Origin-Opener-Policy": "same-origin", "Cache-Control": "no-store"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("HSTS on plain http")
		}
	}
}

func TestHSTSAndSecureCookieWithHTTPSBaseURL(t *testing.T) {
	e := newTestEnv(t, func(c *testConfig) { c.BaseURL, _ = url.Parse("https://portal.example.com") })
	if e.srv.sm.Cookie.Name != "__Host-portier_session" || !e.srv.sm.Cookie.Secure {
		t.Fatalf("cookie %q secure=%v", e.srv.sm.Cookie.Name, e.srv.sm.Cookie.Secure)
	}
	resp, _ := e.get("/", nil)
	if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("no HSTS: %v", resp.Header)
	}
	// The language cookie is Secure too.
	resp, _ = e.post("/lang", url.Values{"lang": {"en"}}, nil)
	if ck := resp.Header.Get("Set-Cookie"); !strings.Contains(ck, "Secure") {
		t.Fatalf("language cookie not Secure: %q", ck)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newTestEnv(t)
	// A forged form post from another site, as a browser sends it.
	resp, body := e.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}, map[string]string{
		"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Accept-Language": "en",
	})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: status %d", resp.StatusCode)
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("cross-origin POST changed state: %q", resp.Header.Get("Set-Cookie"))
	}
	if !strings.Contains(body, "Not allowed") {
		t.Fatalf("no localized 403 page: %s", body)
	}
	// The same post from our own origin works.
	resp, _ = e.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}, map[string]string{
		"Origin": e.ts.URL, "Sec-Fetch-Site": "same-origin",
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST: status %d", resp.StatusCode)
	}
}

func TestOversizedBodyRefused(t *testing.T) {
	e := newTestEnv(t)
	big := url.Values{"lang": {"en"}, "pad": {strings.Repeat("x", 2<<20)}}
	resp, body := e.post("/lang", big, map[string]string{"Accept-Language": "de"})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MB form: status %d", resp.StatusCode)
	}
	if !strings.Contains(body, "Zu viele Daten") {
		t.Fatalf("413 page not localized: %.300s", body)
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("oversized POST changed state")
	}
}

func TestLocalizedErrorPages(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		method, path, lang string
		status             int
		want               string
	}{
		{"GET", "/no/such/page", "de", 404, "Seite nicht gefunden"},
		{"GET", "/no/such/page", "en", 404, "Page not found"},
		{"DELETE", "/healthz", "en", 405, "Not possible here"},
		{"DELETE", "/healthz", "de", 405, "Hier nicht möglich"},
	}
	for _, c := range cases {
		resp, body := e.do(c.method, c.path, nil, map[string]string{"Accept-Language": c.lang})
		if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s (%s): %d, want %d with %q", c.method, c.path, c.lang, resp.StatusCode, c.status, c.want)
		}
		if got := doc(t, body).Find("html").AttrOr("lang", ""); got != c.lang {
			t.Errorf("html lang=%q, want %q", got, c.lang)
		}
	}
	// htmx requests get only the fragment.
	resp, body := e.get("/nope", map[string]string{"HX-Request": "true", "Accept-Language": "en"})
	if resp.StatusCode != 404 || strings.Contains(body, "<html") || !strings.Contains(body, `data-testid="error"`) {
		t.Fatalf("htmx 404: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
		t.Fatalf("no Vary: HX-Request")
	}
}

// A handler error must produce its error page through the session middleware, never an empty 200, and
// the page must not show the cause.
func TestHandlerErrorThroughSessionMiddleware(t *testing.T) {
	e := newTestEnv(t)
	e.srv.e.GET("/test/boom", func(c *echo.Context) error {
		e.srv.sm.Put(c.Request().Context(), "k", "v")
		return errors.New("secret internal cause: /var/lib/portier sql: no such table")
	})
	e.srv.e.GET("/test/panicky", func(c *echo.Context) error {
		return echo.ErrNotFound.Wrap(errors.New("row 42 of tenant 7"))
	})
	resp, body := e.get("/test/boom", map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 500 || !strings.Contains(body, "Something went wrong") {
		t.Fatalf("status %d body %.200s", resp.StatusCode, body)
	}
	if strings.Contains(body, "secret internal cause") || strings.Contains(body, "sql:") || strings.Contains(body, "goroutine") {
		t.Fatalf("error page leaks the cause")
	}
	if !strings.Contains(e.logBuf.String(), "secret internal cause") {
		t.Fatalf("cause not logged")
	}
	resp, body = e.get("/test/panicky", nil)
	if resp.StatusCode != 404 || strings.Contains(body, "tenant 7") {
		t.Fatalf("404 with cause: %d", resp.StatusCode)
	}
}

func TestSessionSaveAndReload(t *testing.T) {
	e := newTestEnv(t)
	e.srv.e.GET("/test/put", func(c *echo.Context) error {
		e.srv.sm.Put(c.Request().Context(), "who", c.QueryParam("v"))
		return c.String(200, "stored")
	})
	e.srv.e.GET("/test/get", func(c *echo.Context) error {
		return c.String(200, "got:"+e.srv.sm.GetString(c.Request().Context(), "who"))
	})
	resp, _ := e.get("/test/put?v=Anna", nil)
	ck := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "portier_session=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || strings.Contains(ck, "Secure") {
		t.Fatalf("session cookie %q", ck)
	}
	var n int
	if err := e.db.R.QueryRow(`SELECT count(*) FROM sessions WHERE julianday('now') < expiry`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sessions in store: %d, %v (expiry not stored in a format SQLite understands?)", n, err)
	}
	_, body := e.get("/test/get", nil)
	if body != "got:Anna" {
		t.Fatalf("reload: %q", body)
	}
	// A read-only request within a minute does not write the session again.
	resp, _ = e.get("/test/get", nil)
	if resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("unmodified session re-sent")
	}
	// After the idle timeout the session is gone.
	e.clock.Advance(31 * time.Minute)
	_, body = e.get("/test/get", nil)
	if body != "got:" {
		t.Fatalf("idle session still alive: %q", body)
	}
}

func TestLanguageSwitchSticks(t *testing.T) {
	e := newTestEnv(t)
	_, body := e.get("/", map[string]string{"Accept-Language": "de-DE,de;q=0.9"})
	if !strings.Contains(body, "Willkommen") {
		t.Fatalf("not German by Accept-Language")
	}
	resp, _ := e.post("/lang", url.Values{"lang": {"en"}, "next": {"/?x=1"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/?x=1" {
		t.Fatalf("switch: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = e.get("/", map[string]string{"Accept-Language": "de"})
	if !strings.Contains(body, "Welcome") {
		t.Fatalf("choice did not stick over Accept-Language")
	}
	// Unknown language and foreign next are refused / ignored.
	resp, _ = e.post("/lang", url.Values{"lang": {"fr"}}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("lang=fr: %d", resp.StatusCode)
	}
	resp, _ = e.post("/lang", url.Values{"lang": {"de"}, "next": {"https://evil.example/"}}, nil)
	if resp.Header.Get("Location") != "/" {
		t.Fatalf("next to another site followed: %q", resp.Header.Get("Location"))
	}
	// Without any cookie or header: German.
	e2 := newTestEnv(t)
	_, body = e2.get("/", nil)
	if doc(t, body).Find("html").AttrOr("lang", "") != "de" {
		t.Fatalf("default is not German")
	}
}

func TestThemeChoice(t *testing.T) {
	e := newTestEnv(t)
	_, body := e.get("/", nil)
	if _, ok := doc(t, body).Find("html").Attr("data-theme"); ok {
		t.Fatalf("theme set without a choice")
	}
	e.post("/theme", url.Values{"theme": {"dark"}, "next": {"/"}}, nil)
	_, body = e.get("/", nil)
	if doc(t, body).Find("html").AttrOr("data-theme", "") != "dark" {
		t.Fatalf("dark theme not applied")
	}
	resp, _ := e.post("/theme", url.Values{"theme": {"purple"}}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("bad theme: %d", resp.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/docs?x=1":              "/docs?x=1",
		"":                       "/",
		"https://elsewhere.test": "/",
		"//elsewhere.test/x":     "/",
		"/\\elsewhere.test":      "/",
		"javascript:alert(1)":    "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"docs":                   "/",
	} {
		if got := safeNext(in, "/"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// An explained error's page leads to its link only when that is a path on this site (else to the start
// page, as every error page).
func TestExplainedErrorLinkStaysOnThisSite(t *testing.T) {
	for href, want := range map[string]string{
		"/o/alpha/docs/configurations": "/o/alpha/docs/configurations",
		"//elsewhere.test/x":           "",
		"https://elsewhere.test":       "",
		"":                             "",
	} {
		v := errorKind(&explained{err: echo.ErrNotFound, titleKey: "t", textKey: "x", linkKey: "docs.bulk.link_gone.back", linkHref: href})
		if v.Status != http.StatusNotFound || v.LinkHref != want || (want != "") != (v.LinkKey != "") {
			t.Errorf("link %q: %d %q %q", href, v.Status, v.LinkHref, v.LinkKey)
		}
	}
}

func TestStaticAssetsAndHealth(t *testing.T) {
	e := newTestEnv(t)
	_, body := e.get("/", nil)
	href := doc(t, body).Find(`link[rel="stylesheet"]`).Last().AttrOr("href", "")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.css$`).MatchString(href) {
		t.Fatalf("app.css not content-hashed: %q", href)
	}
	resp, css := e.get(href, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "skip-link") {
		t.Fatalf("static: %d %v", resp.StatusCode, resp.Header)
	}
	if resp.ContentLength != int64(len(css)) || len(resp.TransferEncoding) > 0 {
		t.Fatalf("static file of %d bytes sent with length %d, %v", len(css), resp.ContentLength, resp.TransferEncoding)
	}
	resp, _ = e.get("/static/app.css", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("unhashed name served: %d", resp.StatusCode)
	}
	resp, body = e.get("/healthz", nil)
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	e.db.R.Close()
	resp, _ = e.get("/healthz", nil)
	if resp.StatusCode != 503 {
		t.Fatalf("healthz with a closed database: %d", resp.StatusCode)
	}
}

func TestLogHasNoQueryOrToken(t *testing.T) {
	e := newTestEnv(t)
	e.get("/invite/SECRETTOKEN123?token=SECRETTOKEN456", nil)
	log := e.logBuf.String()
	if strings.Contains(log, "SECRETTOKEN") {
		t.Fatalf("token reached the log: %s", log)
	}
	if !strings.Contains(log, "route=/invite/:token") { // the route pattern is logged, never the path
		t.Fatalf("request not logged: %s", log)
	}
}

// TestPagesGoWithTheirLength: a rendered page is sent whole with its Content-Length, not in chunks.
func TestPagesGoWithTheirLength(t *testing.T) {
	e := newTestEnv(t)
	resp, body := e.get("/login", nil)
	if resp.StatusCode != 200 || len(body) < 2048 {
		t.Fatalf("status %d, %d bytes: the page must be larger than net/http's buffer to prove anything", resp.StatusCode, len(body))
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Fatalf("Content-Length %d for %d bytes, transfer encoding %v", resp.ContentLength, len(body), resp.TransferEncoding)
	}
}

// Whose language each answer speaks, now that the headers' language is worked out only when asked for: a
// signed-in person's own (pages, their error pages, a refused organisation's 404), whatever the browser
// sends; the language cookie, then Accept-Language, for everyone else — also for the person once their
// session has been ended. Many requests at once in different languages each get their own.
func TestEachAnswerSpeaksItsLanguage(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createOrg("Beta AG", "beta")
	u := e.createUser("en@alpha.example", "Eli", "", map[int64]string{a.ID: "viewer"}) // English
	lang := func(body string) string { return doc(t, body).Find("html").AttrOr("lang", "") }
	de := map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	peopleSignIn(e, u.Email)
	for _, c := range []struct {
		path   string
		status int
	}{{"/o/alpha", 200}, {"/o/beta", 404}, {"/o/alpha/no-such-page", 404}, {"/no/such/page", 404}, {"/profile", 200}} {
		resp, body := e.get(c.path, de)
		if resp.StatusCode != c.status || lang(body) != "en" {
			t.Errorf("signed in, %s: %d lang %q, want %d in the person's en", c.path, resp.StatusCode, lang(body), c.status)
		}
	}
	if err := e.db.EndOtherSessions(context.Background(), u.ID, ""); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get("/o/alpha/no-such-page", de)
	if resp.StatusCode != 303 {
		t.Fatalf("ended session: %d", resp.StatusCode)
	}
	// The sign-in page speaks the language the person chose, which the language cookie kept, not the browser's.
	if resp, body = e.get(resp.Header.Get("Location"), de); resp.StatusCode != 200 || lang(body) != "en" {
		t.Errorf("sign-in page after the session ended: %d lang %q, want the person's en", resp.StatusCode, lang(body))
	}
	cookie := map[string]string{"Accept-Language": "en", "Cookie": e.srv.cookieLang + "=de"}
	for _, path := range []string{"/login", "/no/such/page", "/o/alpha"} {
		e.newClient()
		resp, body := e.get(path, cookie)
		if resp.StatusCode == 303 {
			resp, body = e.get(resp.Header.Get("Location"), cookie)
		}
		if lang(body) != "de" {
			t.Errorf("signed out with the language cookie, %s: %d lang %q, want de", path, resp.StatusCode, lang(body))
		}
	}
	var wg sync.WaitGroup
	for i := range 24 {
		want := []string{"de", "en"}[i%2]
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.URL([]string{"/login", "/no/such/page", "/o/beta"}[i%3]), nil)
			req.Header.Set("Accept-Language", want)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if got := lang(string(b)); got != want && resp.StatusCode != 303 {
				t.Errorf("parallel %s: lang %q, want %q", req.URL.Path, got, want)
			}
		})
	}
	wg.Wait()
}

// The answers given before the session is read — here the cross-site refusal — speak the signed-in
// person's language, not the browser's: signing in keeps the language cookie the person's. Before, a
// person who chose German in the portal got these in English from an English browser.
func TestPreSessionAnswersSpeakThePersonsLanguage(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	if _, err := e.db.W.Exec(`UPDATE users SET lang = 'de' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	en := map[string]string{"Accept-Language": "en"}
	e.login(u.Email, testPassword)
	if _, body := e.get("/profile", en); !strings.Contains(body, `lang="de"`) {
		t.Fatalf("the profile is not in the person's language: %.200s", body)
	}
	resp, body := e.post("/logout", nil, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Accept-Language": "en"})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Nicht erlaubt") {
		t.Fatalf("cross-site refusal to a German-speaking person: %d %.300s", resp.StatusCode, body)
	}
	// A static file carries no cookie: it may be cached.
	e.client.Jar.SetCookies(mustURL(t, e.ts.URL), []*http.Cookie{{Name: "portier_lang", Value: "en", Path: "/"}})
	_, page := e.get("/profile", en)
	css := doc(t, page).Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	e.client.Jar.SetCookies(mustURL(t, e.ts.URL), []*http.Cookie{{Name: "portier_lang", Value: "en", Path: "/"}})
	if resp, _ := e.get(css, en); resp.StatusCode != http.StatusOK || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("static file %s: %d, Set-Cookie %q", css, resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
}
