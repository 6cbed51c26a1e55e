package handlers

import (
	"context"
	"strings"
	"testing"

	"portier/db"
)

func TestCSVExportNeutralisesFormulasAndLeavesOutSecrets(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: "=HYPERLINK(\"http://evil\")",
		Fields: map[string]string{"notes": "+SUM(A1)", "username": "@admin"}, Secrets: map[string]string{"password": "EXPORT-SECRET"}}, db.DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	f.as(f.viewer)
	resp, body := e.get("/o/alpha/export/passwords", map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "alpha-passwords.csv") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{`"'=HYPERLINK(""http://evil"")"`, "'+SUM(A1)", "'@admin", "NAS admin"} {
		if !strings.Contains(body, want) {
			t.Errorf("export lacks %q:\n%s", want, body)
		}
	}
	for _, leak := range []string{"EXPORT-SECRET", marker, "Domain admin"} {
		if strings.Contains(body, leak) {
			t.Errorf("export contains %q", leak)
		}
	}
	// The handbook leaves secrets out until asked for, and asking is audited.
	_, body = e.get("/o/alpha/handbook", nil)
	if strings.Contains(body, marker) || !strings.Contains(body, "NAS admin") {
		t.Fatal("handbook shows secrets without being asked (or misses entries)")
	}
	resp, body = e.post("/o/alpha/handbook", map[string][]string{"secrets": {"1"}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, marker) || strings.Contains(body, "staff-"+marker) {
		t.Fatal("handbook with secrets wrong (or shows the staff-only secret)")
	}
	entries, _ := e.db.AuditList(ctx, db.AuditFilter{OrgID: f.a.ID, Action: "docs.handbook_secrets"})
	if len(entries) != 1 {
		t.Fatalf("handbook with secrets audited %d times", len(entries))
	}
}
