package handlers

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portier/db"
	"portier/i18n"
	"portier/static"
)

// A session token is a bearer credential: it is in no file the portal writes, backups leave sessions
// out, and a restored database signs nobody in (security.md, Sessions; issue 10, finding 4).
func TestSessionTokensStayOutOfFilesAndBackups(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	anna := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(anna.Email, testPassword)
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	token := e.sessionToken()
	hash := db.SessionHash(token)

	// The live database and its WAL hold the hash (so this looks in the right place), never the token.
	live := readFiles(t, e.db.Path, e.db.Path+"-wal")
	if !bytes.Contains(live, hash) {
		t.Fatal("the session's hash is not in the database files: the search looks in the wrong place")
	}
	if bytes.Contains(live, []byte(token)) {
		t.Fatal("the session token is in the database file or its WAL")
	}

	// A backup holds no session at all, not even in its free pages.
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, e.db.Path, backup); err != nil {
		t.Fatal(err)
	}
	if b := readFiles(t, backup); bytes.Contains(b, []byte(token)) || bytes.Contains(b, hash) {
		t.Fatal("the backup holds the session")
	}
	for _, table := range []string{"sessions", "user_sessions"} {
		if n := countIn(t, backup, `SELECT count(*) FROM `+table); n != 0 {
			t.Fatalf("backup: %d rows in %s", n, table)
		}
	}

	// A restored database signs nobody in: from a backup, and from a plain copy of the live file (what a
	// file-level copy, or a backup made before sessions were left out, holds).
	if _, err := e.db.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(raw, readFiles(t, e.db.Path), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := countIn(t, raw, `SELECT count(*) FROM sessions`); n == 0 {
		t.Fatal("the plain copy holds no session: nothing to test")
	}
	for _, from := range []string{backup, raw} {
		to := filepath.Join(t.TempDir(), "portier.db")
		if _, err := db.RestoreFile(ctx, from, to); err != nil {
			t.Fatal(err)
		}
		if b := readFiles(t, to); bytes.Contains(b, hash) {
			t.Fatalf("restored from %s: the session's hash is still in the file", filepath.Base(from))
		}
		status, loc := getWithSession(t, e, to, token, "/profile")
		if status != 303 || !strings.HasPrefix(loc, "/login") {
			t.Fatalf("restored from %s: the session signs in: %d → %q", filepath.Base(from), status, loc)
		}
	}
}

// readFiles returns the concatenated bytes of the files that exist among paths.
func readFiles(t *testing.T, paths ...string) []byte {
	t.Helper()
	var all []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// countIn runs a count query on the database file at path, opened read-only (the file stays as it is).
func countIn(t *testing.T, path, q string) int {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// getWithSession serves the database file at path with a second server configured like e's and sends
// one request carrying the session cookie token.
func getWithSession(t *testing.T, e *testEnv, path, token, page string) (int, string) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServer(e.tc, d, bundle, assets)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+page, nil)
	req.AddCookie(&http.Cookie{Name: s.sm.Cookie.Name, Value: token})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}
