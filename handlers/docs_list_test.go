package handlers

import (
	"context"
	"strings"
	"testing"
)

// Through the pages: what one person just saved shows in the next list, menu counts follow, staff-only items
// never reach a customer, and one organisation's list never shows another's items.
func TestDocListCacheThroughPages(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	_, body := e.get("/o/alpha/docs/passwords", nil)
	if strings.Contains(body, "Domain admin") || strings.Contains(body, "Beta secret") {
		t.Fatal("customer list shows a staff-only item or another organisation's item")
	}
	f.as(f.tech)
	_, body = e.get("/o/alpha/docs/passwords", nil) // fills the cache for staff
	if !strings.Contains(body, "Domain admin") {
		t.Fatal("staff list lacks the staff-only item")
	}
	resp, body := e.post("/o/alpha/docs/passwords", map[string][]string{"name": {"Neues Konto"}, "username": {"neu"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d %.300s", resp.StatusCode, body)
	}
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "Neues Konto") {
		t.Fatal("the new item is missing from the next list")
	}
	if c := doc(t, body).Find(`[data-testid="count-passwords"]`).Text(); c != "3" {
		t.Fatalf("menu count %q, want 3", c)
	}
	f.as(f.viewer)
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "Neues Konto") || strings.Contains(body, "Domain admin") {
		t.Fatal("customer list after a change: new item missing or staff-only item shown")
	}
	if c := doc(t, body).Find(`[data-testid="count-passwords"]`).Text(); c != "2" {
		t.Fatalf("customer menu count %q, want 2", c)
	}
	f.as(f.stranger)
	_, body = e.get("/o/beta/docs/passwords", nil)
	if strings.Contains(body, "Neues Konto") || strings.Contains(body, "NAS admin") || !strings.Contains(body, "Beta secret") {
		t.Fatalf("organisation B's list is wrong: %.2000s", body)
	}
}

// Nothing kept in memory between requests decides access: a changed role, a removed membership and a
// disabled account take effect on the very next request, after the caches were filled.
func TestAccessChangesTakeEffectAtOnce(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	f.as(f.mgr)
	for _, p := range []string{"/o/alpha/docs/contacts", "/o/alpha/people", "/o/alpha"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 200 {
			t.Fatalf("manager %s: %d", p, resp.StatusCode)
		}
	}
	if err := e.db.SetMemberRole(ctx, f.mgr.ID, f.a.ID, "viewer"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/alpha/people", nil); resp.StatusCode != 404 {
		t.Fatalf("people page after losing the manager role: %d", resp.StatusCode)
	}
	if _, err := e.db.W.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND org_id = ?`, f.mgr.ID, f.a.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 404 {
		t.Fatalf("list after the membership was removed: %d", resp.StatusCode)
	}
	// Disabled without its sessions being ended (as a direct database change would do): still refused.
	f.as(f.viewer)
	if resp, _ := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 200 {
		t.Fatalf("viewer list: %d", resp.StatusCode)
	}
	if _, err := e.db.W.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, e.clock.Now().Unix(), f.viewer.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("disabled person's next request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
