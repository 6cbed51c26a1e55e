package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"portier/db"
)

func TestWarrantyEndingSoonIsHighlightedAndTOTPShowsTheCurrentCode(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	soon := e.clock.Now().AddDate(0, 0, 30).Format("2006-01-02")
	later := e.clock.Now().AddDate(1, 0, 0).Format("2006-01-02")
	for name, end := range map[string]string{"Soon-NAS": soon, "Later-NAS": later} {
		if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: name,
			Fields: map[string]string{"kind": "server", "warranty_end": end}}, db.DocActor{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	const seed = "JBSWY3DPEHPK3PXP"
	id, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: "M365",
		Secrets: map[string]string{"password": "x", "totp": seed}}, db.DocActor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.as(f.viewer)
	_, body := e.get("/o/alpha/docs/configurations", nil)
	d := doc(t, body)
	soonRow := d.Find(`tr:contains("Soon-NAS") [data-testid="highlight"]`).Length()
	laterRow := d.Find(`tr:contains("Later-NAS") [data-testid="highlight"]`).Length()
	if soonRow != 1 || laterRow != 0 {
		t.Fatalf("warranty highlight: soon %d, later %d", soonRow, laterRow)
	}
	resp, body := e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/secret/totp", id), nil, map[string]string{"HX-Request": "true"})
	want, _ := totp.GenerateCode(seed, e.clock.Now())
	got := strings.ReplaceAll(doc(t, body).Find(`[data-testid="secret-value-totp"]`).Text(), " ", "")
	if resp.StatusCode != 200 || strings.TrimSpace(got) != want || doc(t, body).Find(`[data-testid="totp-remaining"]`).Length() != 1 {
		t.Fatalf("totp: %d %q want %q", resp.StatusCode, got, want)
	}
	if strings.Contains(body, seed) {
		t.Fatal("the seed itself was shown")
	}
}
