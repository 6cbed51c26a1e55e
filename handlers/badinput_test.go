package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// dbCounts counts the rows of the tables a request could change (sessions aside: a page view may refresh
// its own session).
func (e *testEnv) dbCounts() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"doc_items", "doc_versions", "doc_secrets", "doc_secret_versions", "audit", "users",
		"memberships", "invitations", "outbox", "ip_failures", "mfa_methods", "orgs", "settings", "tokens"} {
		var n int
		if err := e.db.R.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			e.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	var fails int
	if err := e.db.R.QueryRowContext(context.Background(), "SELECT COALESCE(SUM(failed_logins), 0) FROM users").Scan(&fails); err != nil {
		e.t.Fatal(err)
	}
	out["users.failed_logins"] = fails
	return out
}

// Bad input gets a quick 4xx with a page in the person's language, and changes nothing.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	cfg := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	big := strings.Repeat("x", maxFormBody+1000)
	type tc struct {
		name        string
		method      string
		path        string
		body        io.Reader
		contentType string
		status      int
		want        string // English text on the page
		wantDE      string // German text on the page (optional)
	}
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	// A reader without a length: the client sends it chunked, so only reading finds out it is too big.
	chunked := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
	cases := []tc{
		{"oversized body with length", "POST", "/o/alpha/docs/configurations", strings.NewReader("name=" + big + "&kind=server"), "", 413, "Too much data", "Zu viele Daten"},
		{"oversized body chunked", "POST", "/o/alpha/docs/configurations", chunked("name=" + big + "&kind=server"), "", 413, "Too much data", ""},
		{"oversized sign-in", "POST", "/login", strings.NewReader("email=a%40b.example&password=" + big), "", 413, "Too much data", "Zu viele Daten"},
		{"oversized sign-in chunked", "POST", "/login", chunked("email=a%40b.example&password=" + big), "", 413, "Too much data", ""},
		{"oversized edit", "POST", cfg, chunked("version=1&kind=server&name=" + big), "", 413, "Too much data", ""},
		{"broken form encoding", "POST", "/o/alpha/docs/configurations", strings.NewReader("name=%zz&kind=server"), "", 400, "This request could not be processed", ""},
		{"broken form encoding at sign-in", "POST", "/login", strings.NewReader("email=%zz&password=x"), "", 400, "This request could not be processed", "Diese Anfrage konnte nicht verarbeitet werden"},
		{"invalid UTF-8 in a field", "POST", "/o/alpha/docs/configurations", form(url.Values{"name": {"Server \xff\xfe"}, "kind": {"server"}}), "", 422, "Contains characters that are not valid text.", ""},
		{"NUL byte in a field", "POST", "/o/alpha/docs/configurations", form(url.Values{"name": {"Server\x00drop"}, "kind": {"server"}}), "", 422, "Contains invisible control characters.", ""},
		{"NUL byte in notes", "POST", cfg, form(url.Values{"name": {"FW-01"}, "kind": {"firewall"}, "notes": {"a\x00b"}, "version": {"1"}}), "", 422, "Contains invisible control characters.", ""},
		{"huge port", "POST", "/o/alpha/docs/vpn", form(url.Values{"name": {"VPN"}, "kind": {"wireguard"}, "port": {"99999999999999999999"}}), "", 422, "Please enter a port between 1 and 65535.", ""},
		{"huge VLAN", "POST", "/o/alpha/docs/wireless", form(url.Values{"name": {"WLAN"}, "security": {"wpa2"}, "vlan": {"1e400"}}), "", 422, "", ""},
		{"huge version", "POST", cfg, form(url.Values{"name": {"FW-02"}, "kind": {"firewall"}, "version": {"1e400"}}), "", 409, "Someone else saved this entry", ""},
		{"version beyond int64", "POST", cfg, form(url.Values{"name": {"FW-02"}, "kind": {"firewall"}, "version": {"99999999999999999999"}}), "", 409, "Someone else saved this entry", ""},
		{"duplicated field", "POST", "/o/alpha/docs/configurations", strings.NewReader("name=A&name=B&kind=server"), "", 400, "This request could not be processed", ""},
		{"duplicated version", "POST", cfg, strings.NewReader("name=FW-02&kind=firewall&version=1&version=2"), "", 400, "This request could not be processed", ""},
		{"huge page number", "GET", "/o/alpha/docs/configurations?page=99999999999999999999", nil, "", 400, "This request could not be processed", ""},
		{"page beyond int64 maths", "GET", "/o/alpha/docs/configurations?page=9223372036854775807", nil, "", 400, "This request could not be processed", ""},
		{"negative page", "GET", "/o/alpha/docs/configurations?page=-3", nil, "", 400, "This request could not be processed", ""},
		{"duplicated page", "GET", "/o/alpha/docs/configurations?page=1&page=2", nil, "", 400, "This request could not be processed", ""},
		{"huge item id", "GET", "/o/alpha/docs/configurations/99999999999999999999", nil, "", 404, "Page not found", ""},
		{"invalid UTF-8 invitation", "POST", "/o/alpha/people/invite", form(url.Values{"email": {"a\xff@b.example"}, "name": {"X"}, "role": {"viewer"}, "lang": {"de"}}), "", 422, "Please enter a valid e-mail address", ""},
		{"NUL in invitation name", "POST", "/o/alpha/people/invite", form(url.Values{"email": {"nul@b.example"}, "name": {"X\x00Y"}, "role": {"viewer"}, "lang": {"de"}}), "", 422, "", ""},
	}
	for _, c := range cases {
		// Readers are single use, and the client may still be reading one after an early answer (413): each
		// language gets a body of its own, made from the bytes read here once.
		var raw []byte
		if sr, ok := c.body.(*strings.Reader); ok {
			raw, _ = io.ReadAll(sr)
		}
		for _, lang := range []string{"en", "de"} {
			if lang == "de" && c.wantDE == "" {
				continue
			}
			before := e.dbCounts()
			var body io.Reader = c.body
			if raw != nil {
				body = bytes.NewReader(raw)
			}
			req, err := http.NewRequest(c.method, e.URL(c.path), body)
			if err != nil {
				t.Fatal(err)
			}
			if c.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.Header.Set("Accept-Language", lang)
			start := time.Now()
			cl := e.client
			if strings.HasPrefix(c.path, "/login") {
				cl = &http.Client{CheckRedirect: e.client.CheckRedirect} // nobody signed in
			}
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			page := string(b)
			want := c.want
			if lang == "de" {
				want = c.wantDE
			}
			if resp.StatusCode != c.status || !strings.Contains(page, want) {
				t.Errorf("%s (%s): %d, want %d with %q\n%.300s", c.name, lang, resp.StatusCode, c.status, want, page)
				continue
			}
			if !strings.Contains(page, `<html lang="`+lang+`"`) {
				t.Errorf("%s: the page is not in %s", c.name, lang)
			}
			if took > 2*time.Second {
				t.Errorf("%s: took %s", c.name, took)
			}
			if after := e.dbCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("%s: the database changed:\n before %v\n after  %v", c.name, before, after)
			}
		}
	}
	it, _ := e.db.DocGet(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true}, "configurations", f.items["configurations"])
	if it.Name != "FW-01" || it.Version != 1 {
		t.Fatalf("the item changed: %+v", it)
	}
}

// A client that goes away mid-request (closed tab) is no server error: no 500, no error line in the log.
func TestClientGoneIsNoServerError(t *testing.T) {
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "/o/alpha/docs/vpn", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	c := e.srv.e.NewContext(req, rec)
	e.srv.handleError(c, fmt.Errorf("list: %w", context.Canceled))
	if rec.Code != 499 || strings.Contains(e.logBuf.String(), "level=ERROR") {
		t.Fatalf("client gone: %d\n%s", rec.Code, e.logBuf.String())
	}
	// A cancelled context while the client is still there is an ordinary failure.
	req = httptest.NewRequest(http.MethodGet, "/o/alpha/docs/vpn", nil)
	rec = httptest.NewRecorder()
	e.srv.handleError(e.srv.e.NewContext(req, rec), context.Canceled)
	if rec.Code != 500 {
		t.Fatalf("cancelled inside: %d", rec.Code)
	}
}
