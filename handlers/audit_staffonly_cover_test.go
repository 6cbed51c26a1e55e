package handlers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"portier/db"
)

// A look or reveal by MSP staff at an item that is no longer staff-only belongs in the customer's access
// log. An entry written while the item was staff-only is hidden from the customer, so it must not cover
// the next look or reveal once the item is visible.
func TestAStaffOnlyEntryDoesNotCoverALookAfterTheItemIsVisible(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	hx := map[string]string{"HX-Request": "true"}
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)
	f.as(f.tech)
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("staff look: %d", resp.StatusCode)
	}
	if resp, _ := e.post(item+"/secret/password", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("staff reveal: %d", resp.StatusCode)
	}
	it, err := e.db.DocGet(ctx, db.DocScope{OrgID: f.a.ID, StaffView: true}, "passwords", f.secretID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DocUpdate(ctx, e.srv.cfg.Sealer, f.secretID, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: it.Name,
		Fields: it.Fields, StaffOnly: false, Version: it.Version}, db.DocActor{Name: "Setup"}, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("staff look after: %d", resp.StatusCode)
	}
	if resp, _ := e.post(item+"/secret/password", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("staff reveal after: %d", resp.StatusCode)
	}
	f.as(f.mgr)
	// The customer now sees the item: its page, and its secret.
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("customer look at the now visible item: %d", resp.StatusCode)
	}
	for _, action := range []string{"docs.view", "docs.reveal"} {
		visible := 0
		for _, r := range auditOf(t, e, f.a.ID, f.tech.ID, action) {
			if !r.StaffOnly {
				visible++
			}
		}
		if visible != 1 {
			t.Errorf("%s by staff after the item became visible: %d entries the customer sees, want 1", action, visible)
		}
	}
}
