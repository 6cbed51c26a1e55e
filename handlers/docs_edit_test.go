package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"portier/db"
)

func TestDocsValidationStoresNothing(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	before, _ := e.db.DocCounts(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true})
	cases := []url.Values{
		{"name": {""}, "kind": {"server"}},
		{"name": {strings.Repeat("x", 201)}, "kind": {"server"}},
		{"name": {"ok"}, "kind": {"toaster"}},
		{"name": {"ok"}, "kind": {"server"}, "ip": {"999.1.1.1"}},
		{"name": {"bad\xff"}, "kind": {"server"}},
		{"name": {"ok"}, "kind": {"server"}, "warranty_end": {"31.02.2027"}},
		{"name": {"ok"}, "kind": {"server"}, "contact": {strconv.FormatInt(f.bItem, 10)}},
	}
	for _, form := range cases {
		resp, body := e.post("/o/alpha/docs/configurations", form, map[string]string{"Accept-Language": "de"})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "field-error") {
			t.Errorf("%v: %d", form, resp.StatusCode)
		}
	}
	resp, _ := e.post("/o/alpha/docs/configurations", url.Values{"name": {"a", "b"}, "kind": {"server"}}, nil)
	if resp.StatusCode != 400 {
		t.Errorf("duplicated parameter: %d", resp.StatusCode)
	}
	after, _ := e.db.DocCounts(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true})
	if after["configurations"] != before["configurations"] {
		t.Fatal("invalid input stored something")
	}
	// HTML is stored as text and shown escaped.
	resp, _ = e.post("/o/alpha/docs/configurations", url.Values{"name": {"<script>alert(1)</script>"}, "kind": {"server"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, body := e.get(resp.Header.Get("Location"), nil)
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatal("stored HTML not escaped")
	}
}

func TestDocsConcurrentEditIsRefused(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	path := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	first := url.Values{"name": {"FW-01"}, "kind": {"firewall"}, "notes": {"erste"}, "version": {"1"}}
	second := url.Values{"name": {"FW-01"}, "kind": {"firewall"}, "notes": {"zweite"}, "version": {"1"}}
	if resp, _ := e.post(path, first, nil); resp.StatusCode != 303 {
		t.Fatalf("first save: %d", resp.StatusCode)
	}
	resp, body := e.post(path, second, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Someone else saved") || !strings.Contains(body, "zweite") {
		t.Fatalf("second save: %d", resp.StatusCode)
	}
	it, _ := e.db.DocGet(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true}, "configurations", f.items["configurations"])
	if it.Fields["notes"] != "erste" {
		t.Fatalf("overwritten: %q", it.Fields["notes"])
	}
}

func TestDocsDeleteUndoAndHistory(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	resp, _ := e.post(item, url.Values{"name": {"NAS admin"}, "password": {"neu-" + marker}, "version": {"1"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	_, body := e.get(item+"/history", nil)
	d := doc(t, body)
	if d.Find(`[data-testid^="version-"]`).Length() != 2 {
		t.Fatalf("history entries: %d", d.Find(`[data-testid^="version-"]`).Length())
	}
	if strings.Contains(body, marker) {
		t.Fatal("history page shows a secret without a request")
	}
	href, _ := d.Find(`form[action*="/versions/"]`).Last().Attr("action")
	_, body = e.post(href, nil, map[string]string{"HX-Request": "true"})
	if !strings.Contains(body, marker) || strings.Contains(body, "neu-"+marker) {
		t.Fatalf("old secret: %.200s", body)
	}
	resp, _ = e.post(item+"/delete", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	_, body = e.get("/o/alpha/docs/passwords", nil)
	undo, ok := doc(t, body).Find(`[data-testid="flash"] form`).Attr("action")
	if !ok || strings.Contains(body, ">NAS admin<") {
		t.Fatal("no undo offered, or deleted item still listed")
	}
	resp, _ = e.post(undo, nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("undo: %d", resp.StatusCode)
	}
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("restored item: %d", resp.StatusCode)
	}
	// Undo is only for a while.
	e.post(item+"/delete", nil, nil)
	e.clock.Advance(11 * time.Minute)
	if resp, _ := e.post(item+"/restore", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("late undo: %d", resp.StatusCode)
	}
	// Customers have no history.
	f.as(f.viewer)
	if resp, _ := e.get(fmt.Sprintf("/o/alpha/docs/wireless/%d/history", f.items["wireless"]), nil); resp.StatusCode != 404 {
		t.Fatalf("customer history: %d", resp.StatusCode)
	}
}
