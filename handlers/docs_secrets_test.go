package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"portier/db"
)

func TestDocsRevealIsExplicitNoStoreAndAudited(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	detail := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	_, body := e.get(detail, nil)
	if strings.Contains(body, marker) {
		t.Fatal("detail page contains the secret")
	}
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if strings.Contains(body, marker) {
		t.Fatal("list contains the secret")
	}
	resp, body := e.post(detail+"/secret/password", nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != 200 || !strings.Contains(body, marker) || strings.Contains(body, "<html") {
		t.Fatalf("reveal: %d %.200s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal cacheable: %q", resp.Header.Get("Cache-Control"))
	}
	// Without JavaScript: a full page that goes back after 30 seconds.
	resp, body = e.post(detail+"/secret/password", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, marker) || !strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("no-JS reveal: %d", resp.StatusCode)
	}
	resp, body = e.post(detail+"/copy/password", nil, nil)
	if resp.StatusCode != 200 || body != marker {
		t.Fatalf("copy: %d %q", resp.StatusCode, body)
	}
	if resp, _ = e.post(detail+"/copied/password", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("copy confirmation: %d", resp.StatusCode)
	}
	entries, _ := e.db.AuditList(context.Background(), db.AuditFilter{OrgID: f.a.ID})
	count := map[string]int{}
	for _, en := range entries {
		if en.ActorID == f.viewer.ID {
			count[en.Action]++
		}
		if strings.Contains(en.Target, marker) {
			t.Fatal("secret in audit target")
		}
	}
	if count["docs.reveal"] != 1 || count["docs.copy"] != 1 || count["docs.view"] != 1 {
		t.Fatalf("audit counts %v (one per person, item and 5 minutes)", count)
	}
	e.clock.Advance(6 * time.Minute)
	e.post(detail+"/secret/password", nil, nil)
	entries, _ = e.db.AuditList(context.Background(), db.AuditFilter{OrgID: f.a.ID, Action: "docs.reveal"})
	if len(entries) != 2 {
		t.Fatalf("second reveal after 6 minutes not audited: %d", len(entries))
	}
	if strings.Contains(e.logBuf.String(), marker) {
		t.Fatal("secret in the log")
	}
	// Wi-Fi join QR is a data: image, audited as a reveal of the key.
	resp, body = e.post(fmt.Sprintf("/o/alpha/docs/wireless/%d/qr", f.items["wireless"]), nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != 200 || !strings.Contains(body, `src="data:image/png;base64,`) {
		t.Fatalf("wifi qr: %d", resp.StatusCode)
	}
}

func TestDocsMarkerSecretOnlySealedAndTamperGivesCleanError(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	mark := "UI-MARKER-Kennwort-5521"
	resp, _ := e.post("/o/alpha/docs/passwords", url.Values{"name": {"Marker"}, "password": {mark}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, body := e.post(resp.Header.Get("Location")+"/secret/password", nil, map[string]string{"HX-Request": "true"})
	if !strings.Contains(body, mark) {
		t.Fatal("reveal failed")
	}
	for _, p := range []string{e.db.Path, e.db.Path + "-wal"} {
		raw, _ := os.ReadFile(p)
		if bytes.Contains(raw, []byte(mark)) {
			t.Fatalf("%s holds the secret in the clear", p)
		}
	}
	if strings.Contains(e.logBuf.String(), mark) {
		t.Fatal("log holds the secret")
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/o/alpha/docs/passwords/")
	e.db.W.Exec(`UPDATE doc_secrets SET sealed = CAST(substr(sealed, 1, 20) || CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END || substr(sealed, 22) AS BLOB) WHERE item_id = ?`, id)
	resp, body = e.post(resp.Header.Get("Location")+"/secret/password", nil, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 500 || !strings.Contains(body, "Something went wrong") || strings.Contains(body, "sealed") || strings.Contains(body, mark) {
		t.Fatalf("tampered: %d %.300s", resp.StatusCode, body)
	}
	if !strings.Contains(e.logBuf.String(), "does not open") {
		t.Fatal("tampering not logged")
	}
}

// Reveals are de-duplicated per person, item AND field: the one-time code shown after the password of the
// same item is its own entry; the same field again within five minutes is not, also under parallel
// requests.
func TestRevealAuditIsPerField(t *testing.T) {
	f, e, _, item := m365Page(t)
	hx := map[string]string{"HX-Request": "true"}
	if resp, _ := e.post(item+"/secret/password", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("reveal password: %d", resp.StatusCode)
	}
	if resp, _ := e.post(item+"/secret/totp", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("reveal code: %d", resp.StatusCode)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			field := "password"
			if i%2 == 0 {
				field = "totp"
			}
			e.post(item+"/secret/"+field, nil, hx)
			e.post(item+"/secret/password", nil, hx)
		})
	}
	wg.Wait()
	got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal")
	if len(got) != 2 || got[0].Field != "password" || got[1].Field != "totp" {
		t.Fatalf("reveals audited: %+v, want password then totp once each", got)
	}
}

// A copy is logged only when the browser reports that the clipboard took it. The fetch that hands the
// secret to the browser is a reveal (so a fetch that is never confirmed still leaves a trace); a
// confirmation without a fetch is refused.
func TestCopyIsLoggedOnlyWhenConfirmed(t *testing.T) {
	f, e, _, item := m365Page(t)
	// A confirmation of a secret never fetched.
	if resp, _ := e.post(item+"/copied/password", nil, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("confirmation without fetch: %d", resp.StatusCode)
	}
	resp, body := e.post(item+"/copy/password", nil, nil)
	if resp.StatusCode != 200 || body != "m365-"+marker || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("copy fetch: %d %q %q", resp.StatusCode, body, resp.Header.Get("Cache-Control"))
	}
	if n := len(auditOf(t, e, f.a.ID, f.viewer.ID, "docs.copy")); n != 0 {
		t.Fatalf("copy logged before the browser confirmed it: %d", n)
	}
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal"); len(got) != 1 || got[0].Field != "password" {
		t.Fatalf("an unconfirmed copy fetch is not audited as a reveal: %+v", got)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if resp, _ := e.post(item+"/copied/password", nil, nil); resp.StatusCode != http.StatusNoContent {
				t.Errorf("confirmation: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.copy"); len(got) != 1 || got[0].Field != "password" {
		t.Fatalf("confirmed copy: %+v, want one entry", got)
	}
	// The one-time code copies as the current code, never the seed, and is its own entry.
	resp, body = e.post(item+"/copy/totp", nil, nil)
	code, _ := totp.GenerateCode(totpSeed, e.clock.Now())
	if resp.StatusCode != 200 || body != code {
		t.Fatalf("copy code: %d %q, want %s", resp.StatusCode, body, code)
	}
	e.post(item+"/copied/totp", nil, nil)
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.copy"); len(got) != 2 || got[1].Field != "totp" {
		t.Fatalf("copy of the code after the password: %+v", got)
	}
	// Another organisation's item: 404, as everywhere.
	if resp, _ := e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/copied/password", f.bItem), nil, nil); resp.StatusCode != 404 {
		t.Fatalf("confirmation for another organisation's item: %d", resp.StatusCode)
	}
	if strings.Contains(e.logBuf.String(), marker) || strings.Contains(e.logBuf.String(), totpSeed) {
		t.Fatal("secret in the log")
	}
}

func TestMarkerSecretAbsentFromBackup(t *testing.T) {
	f := newDocsFixture(t)
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(context.Background(), f.e.db.Path, out); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(out)
	if len(raw) == 0 || bytes.Contains(raw, []byte(marker)) {
		t.Fatal("backup empty or holds a secret in the clear")
	}
}

// A WireGuard configuration too long for a QR code is the input's fault: 400, and nothing is audited as
// revealed because nothing was.
func TestQRTooLargeIsRefusedUnaudited(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	config := "[Interface]\nPrivateKey = " + marker + "\n" + strings.Repeat("# Kommentar, der die Datei lang macht\n", 150)
	id, err := e.db.DocCreate(context.Background(), e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "vpn", Name: "Lang",
		Fields: map[string]string{"kind": "wireguard"}, Secrets: map[string]string{"config": config}}, db.DocActor{Name: "Setup"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.as(f.tech)
	resp, body := e.post(fmt.Sprintf("/o/alpha/docs/vpn/%d/qr", id), nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, marker) {
		t.Fatalf("too large a QR code: %d", resp.StatusCode)
	}
	if got := auditOf(t, e, f.a.ID, f.tech.ID, "docs.reveal"); len(got) != 0 {
		t.Fatalf("a QR code that was not shown is audited: %+v", got)
	}
}
