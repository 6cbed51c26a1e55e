package handlers

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

func TestLinksSeenFromBothSidesAndNeverStaffOnlyForCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	nas := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	domain := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)
	f.as(f.tech)
	// The picker finds by typing, without the item itself; htmx gets only the results.
	resp, body := e.get(fw+"/links/new?q=admin", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "NAS admin") || !strings.Contains(body, "Domain admin") {
		t.Fatalf("picker: %d", resp.StatusCode)
	}
	resp, body = e.get(fw+"/links/new?q=admin", map[string]string{"HX-Request": "true"})
	if resp.StatusCode != 200 || strings.Contains(body, "<html") || !strings.Contains(body, `id="pick-results"`) {
		t.Fatalf("picker fragment: %d %.200s", resp.StatusCode, body)
	}
	for _, l := range []struct {
		other int64
		label string
	}{{f.items["passwords"], "Admin-Zugang"}, {f.secretID, ""}, {f.items["contacts"], "Ansprechpartnerin"}} {
		if resp, _ := e.post(fw+"/links", url.Values{"other": {fmt.Sprint(l.other)}, "label": {l.label}}, nil); resp.StatusCode != 303 {
			t.Fatalf("link %d: %d", l.other, resp.StatusCode)
		}
	}
	if resp, body := e.post(nas+"/links", url.Values{"other": {fmt.Sprint(f.items["configurations"])}}, nil); resp.StatusCode != 409 || !strings.Contains(body, "linked already") {
		t.Fatalf("linking a linked pair again from the other side: %d", resp.StatusCode)
	}
	// Another organisation's item is not found, whatever the form says.
	if resp, _ := e.post(fw+"/links", url.Values{"other": {fmt.Sprint(f.bItem)}}, nil); resp.StatusCode != 404 {
		t.Fatalf("link to org B: %d", resp.StatusCode)
	}
	_, body = e.get(fw, nil)
	d := doc(t, body)
	if d.Find(`[data-testid="related"] li`).Length() != 3 || !strings.Contains(d.Find(`[data-testid="related"]`).Text(), "Admin-Zugang") {
		t.Fatalf("staff detail: %q", d.Find(`[data-testid="related"]`).Text())
	}
	if got := d.Find(`[data-testid="related"] h3`).Length(); got != 2 {
		t.Fatalf("grouped by area: %d groups", got)
	}
	_, body = e.get(nas, nil)
	if !strings.Contains(doc(t, body).Find(`[data-testid="related"]`).Text(), "FW-01") {
		t.Fatal("the other side does not show the link")
	}
	_, body = e.get(fw+"/history", nil)
	if !strings.Contains(body, "Linked with “NAS admin”") {
		t.Fatal("history without the link")
	}
	_, body = e.get(nas+"/history", nil)
	if !strings.Contains(body, "Linked with “FW-01”") {
		t.Fatal("other side's history without the link")
	}

	// The customer sees the links to what they may see, and nothing of the staff-only password: no name,
	// no group, no count.
	for _, u := range []*db.User{f.viewer, f.mgr} {
		f.as(u)
		resp, body := e.get(fw, nil)
		rel := doc(t, body).Find(`[data-testid="related"]`)
		if resp.StatusCode != 200 || rel.Find("li").Length() != 2 || strings.Contains(body, "Domain admin") {
			t.Fatalf("%s sees %d links: %q", u.Email, rel.Find("li").Length(), rel.Text())
		}
		if doc(t, body).Find(`[data-testid="link-add"], [data-testid^="unlink-"], [data-testid="upload-form"]`).Length() != 0 {
			t.Fatalf("%s is offered to change links or files", u.Email)
		}
		if resp, _ := e.get(fw+"/links/new", nil); resp.StatusCode != 404 {
			t.Fatalf("%s opens the picker: %d", u.Email, resp.StatusCode)
		}
		if resp, _ := e.post(fw+"/links", url.Values{"other": {fmt.Sprint(f.items["vpn"])}}, nil); resp.StatusCode != 404 {
			t.Fatalf("%s links: %d", u.Email, resp.StatusCode)
		}
		if resp, _ := e.post(fmt.Sprintf("%s/links/%d/delete", fw, f.items["passwords"]), nil, nil); resp.StatusCode != 404 {
			t.Fatalf("%s unlinks: %d", u.Email, resp.StatusCode)
		}
		if resp, _ := e.get(domain, nil); resp.StatusCode != 404 {
			t.Fatalf("%s reaches the staff-only item: %d", u.Email, resp.StatusCode)
		}
	}
	// A customer of another organisation reaches nothing.
	f.as(f.stranger)
	for _, p := range []string{fw, fw + "/links/new?q=a"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
			t.Fatalf("stranger %s: %d", p, resp.StatusCode)
		}
	}

	// Deleting the password hides its link on the firewall; restoring brings it back.
	f.as(f.tech)
	if resp, _ := e.post(nas+"/delete", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	_, body = e.get(fw, nil)
	if strings.Contains(doc(t, body).Find(`[data-testid="related"]`).Text(), "NAS admin") {
		t.Fatal("a deleted item is still shown as related")
	}
	if resp, _ := e.post(nas+"/restore", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("restore: %d", resp.StatusCode)
	}
	_, body = e.get(fw, nil)
	if !strings.Contains(doc(t, body).Find(`[data-testid="related"]`).Text(), "Admin-Zugang") {
		t.Fatal("restoring did not bring the link back")
	}
	// Unlinking from the other side; history and audit record it.
	if resp, _ := e.post(fmt.Sprintf("%s/links/%d/delete", nas, f.items["configurations"]), nil, nil); resp.StatusCode != 303 {
		t.Fatalf("unlink: %d", resp.StatusCode)
	}
	_, body = e.get(fw, nil)
	if strings.Contains(doc(t, body).Find(`[data-testid="related"]`).Text(), "NAS admin") {
		t.Fatal("unlinked item still shown")
	}
	_, body = e.get(fw+"/history", nil)
	if !strings.Contains(body, "Link to “NAS admin” removed") {
		t.Fatal("history without the unlink")
	}
	if n := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.link")); n != 3 {
		t.Fatalf("link audit entries: %d", n)
	}
	if n := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.unlink")); n != 1 {
		t.Fatalf("unlink audit entries: %d", n)
	}
}

// Linking the same pair from both sides at once gives one link and one audit entry; the rest are told
// the entries are linked already.
func TestLinkSamePairInParallel(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	nas := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	as := e.fire(12, func(i int) (answer, error) {
		if i%2 == 0 {
			return e.postAs(e.client, fw+"/links", url.Values{"other": {fmt.Sprint(f.items["passwords"])}})
		}
		return e.postAs(e.client, nas+"/links", url.Values{"other": {fmt.Sprint(f.items["configurations"])}})
	})
	if countStatus(as, 303) != 1 || countStatus(as, 409) != 11 {
		t.Fatalf("answers %v", as)
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM doc_links`).Scan(&n)
	if n != 1 || len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.link")) != 1 {
		t.Fatalf("%d links, %d audit entries", n, len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.link")))
	}
}
