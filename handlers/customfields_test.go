package handlers

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// addField creates a custom field through the administrators' form and returns its stored name (cf_<id>).
func addField(t *testing.T, e *testEnv, vals url.Values) string {
	t.Helper()
	resp, body := e.post("/staff/fields", vals, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("add field %v: %d %.400s", vals, resp.StatusCode, body)
	}
	var id int64
	e.db.R.QueryRow(`SELECT max(id) FROM custom_fields`).Scan(&id)
	return "cf_" + strconv.FormatInt(id, 10)
}

func TestCustomFieldsOnlyForAdministrators(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	for _, u := range []*db.User{f.tech, f.mgr} {
		f.as(u)
		if resp, _ := e.get("/staff/fields", nil); resp.StatusCode != 404 {
			t.Errorf("%s: GET /staff/fields = %d", u.Email, resp.StatusCode)
		}
		if resp, _ := e.post("/staff/fields", url.Values{"area": {"configurations"}, "kind": {"text"}, "label": {"X"}}, nil); resp.StatusCode != 404 {
			t.Errorf("%s: POST /staff/fields = %d", u.Email, resp.StatusCode)
		}
	}
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	for _, bad := range []url.Values{
		{"area": {"configurations"}, "kind": {"text"}, "label": {""}},
		{"area": {"nowhere"}, "kind": {"text"}, "label": {"X"}},
		{"area": {"configurations"}, "kind": {"html"}, "label": {"X"}},
		{"area": {"configurations"}, "kind": {"choice"}, "label": {"Stufe"}, "options": {"\n \n"}},
		{"area": {"configurations"}, "kind": {"text"}, "label": {"docs.yes"}}, // a translation key would be translated
	} {
		if resp, _ := e.post("/staff/fields", bad, nil); resp.StatusCode != 422 {
			t.Errorf("%v: %d", bad, resp.StatusCode)
		}
	}
	addField(t, e, url.Values{"area": {"configurations"}, "kind": {"text"}, "label": {"Inventarnummer"}})
	if resp, _ := e.post("/staff/fields", url.Values{"area": {"configurations"}, "kind": {"number"}, "label": {"inventarnummer"}}, nil); resp.StatusCode != 422 {
		t.Errorf("same label twice: %d", resp.StatusCode)
	}
}

// A custom field appears in the form, detail page, list column, filter, search, CSV and handbook; a
// custom date marked as an expiry in the overview.
func TestCustomFieldsShownEverywhere(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	inv := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"text"}, "label": {"Inventarnummer"}, "in_list": {"1"}})
	tier := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"choice"}, "label": {"Support-Stufe"}, "options": {"Gold\nSilber\nGold"}, "in_list": {"1"}})
	until := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"date"}, "label": {"Lizenz bis"}, "expiry": {"1"}})
	num := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"number"}, "label": {"Arbeitsspeicher GB"}})
	_, page := e.get("/staff/fields", nil)
	if !strings.Contains(page, "Inventarnummer") || !strings.Contains(page, "Gold, Silber") {
		t.Fatalf("fields page: %.300s", page)
	}

	f.as(f.tech)
	_, form := e.get("/o/alpha/docs/configurations/new", nil)
	for _, want := range []string{`name="` + inv + `"`, `name="` + tier + `"`, `name="` + until + `" value="" maxlength="200"`, "Support-Stufe", ">Silber<"} {
		if !strings.Contains(form, strings.Split(want, ` value`)[0]) {
			t.Errorf("form lacks %q", want)
		}
	}
	soon := e.clock.Now().AddDate(0, 0, 20).Format("2006-01-02")
	vals := url.Values{"name": {"SRV-CF"}, "kind": {"server"}, inv: {"INV-77341"}, tier: {"Silber"}, until: {soon}, num: {"32,5"}}
	// Values are checked by kind: a choice not offered, a date that is none, a word for a number.
	for field, bad := range map[string]string{tier: "Platin", until: "morgen", num: "viel"} {
		v := url.Values{}
		for k, vs := range vals {
			v[k] = vs
		}
		v.Set(field, bad)
		if resp, _ := e.post("/o/alpha/docs/configurations", v, nil); resp.StatusCode != 422 {
			t.Errorf("%s=%q accepted: %d", field, bad, resp.StatusCode)
		}
	}
	resp, body := e.post("/o/alpha/docs/configurations", vals, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d %.500s", resp.StatusCode, body)
	}
	item := resp.Header.Get("Location")
	_, body = e.get(item, nil)
	d := doc(t, body)
	if got := d.Find(`[data-testid="field-` + inv + `"]`).Text(); !strings.Contains(got, "INV-77341") {
		t.Errorf("detail %s: %q", inv, got)
	}
	if got := d.Find(`[data-testid="field-` + num + `"]`).Text(); !strings.Contains(got, "32.5") {
		t.Errorf("detail %s: %q", num, got)
	}
	if !strings.Contains(body, "Lizenz bis") || !strings.Contains(body, "Support-Stufe") {
		t.Error("detail lacks the labels")
	}
	// List: columns and a filter for the choice.
	_, body = e.get("/o/alpha/docs/configurations?f."+tier+"=Silber", nil)
	if !strings.Contains(body, "Inventarnummer</a>") || !strings.Contains(body, "INV-77341") || strings.Contains(body, "FW-01") {
		t.Errorf("list with filter: %.3000s", body)
	}
	if _, body := e.get("/o/alpha/docs/configurations", nil); !strings.Contains(body, "FW-01") || !strings.Contains(body, "Silber") {
		t.Error("list without filter")
	}
	// Search finds the custom value.
	_, body = e.get("/o/alpha/search?q=INV-77341", nil)
	if !strings.Contains(body, "SRV-CF") {
		t.Error("search does not find a custom field's value")
	}
	// CSV export names the field by its label; import reads it back.
	_, body = e.get("/o/alpha/export/configurations", map[string]string{"Accept-Language": "de"})
	if !strings.Contains(body, "Inventarnummer") || !strings.Contains(body, "INV-77341") || !strings.Contains(body, "Silber") {
		t.Errorf("export: %s", body)
	}
	// So does the export of selected entries (bulk action).
	itemID := item[strings.LastIndexByte(item, '/')+1:]
	if _, body := e.post("/o/alpha/docs/configurations/bulk", url.Values{"action": {"export"}, "id": {itemID}}, nil); !strings.Contains(body, "Inventarnummer") || !strings.Contains(body, "INV-77341") {
		t.Errorf("export of selected entries: %.500s", body)
	}
	csv := "Name,Art,Inventarnummer,Support-Stufe\nSRV-IMPORT,Server,INV-90001,Gold\n"
	resp, preview := e.postFile("/o/alpha/import/configurations", "c.csv", []byte(csv), map[string]string{"Accept-Language": "de"})
	if resp.StatusCode != 200 {
		t.Fatalf("import preview: %d %.600s", resp.StatusCode, preview)
	}
	if resp := e.confirmImport("/o/alpha/import/configurations", preview); resp.StatusCode != 303 {
		t.Fatalf("import: %d", resp.StatusCode)
	}
	var fields string
	e.db.R.QueryRow(`SELECT fields FROM doc_items WHERE name = 'SRV-IMPORT'`).Scan(&fields)
	if !strings.Contains(fields, `"`+inv+`":"INV-90001"`) || !strings.Contains(fields, `"`+tier+`":"Gold"`) {
		t.Errorf("imported fields: %s", fields)
	}
	// Handbook column.
	if _, body := e.get("/o/alpha/handbook", nil); !strings.Contains(body, "Inventarnummer") || !strings.Contains(body, "INV-77341") {
		t.Error("handbook lacks the custom field")
	}
	// The custom date is in "what expires next", for the customer too.
	f.as(f.viewer)
	_, body = e.get("/o/alpha/expiry?window=30", nil)
	if !strings.Contains(body, "SRV-CF") || !strings.Contains(body, "Lizenz bis") {
		t.Errorf("expiry overview lacks the custom date: %.1500s", body)
	}
	// A deleted field disappears from pages; its values stay stored.
	f.as(admin)
	var id string = strings.TrimPrefix(inv, "cf_")
	if resp, _ := e.post("/staff/fields/"+id+"/delete", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete field: %d", resp.StatusCode)
	}
	if _, body := e.get(item, nil); strings.Contains(body, "Inventarnummer") {
		t.Error("deleted field still shown")
	}
}

// A custom secret field is sealed like the built-in secrets: not in the database file, its WAL or a
// backup; revealed only on request, with an audit entry naming the field.
func TestCustomSecretFieldSealedAndRevealedWithAudit(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	bios := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"secret"}, "label": {"BIOS-Passwort"}, "in_list": {"1"}})
	const secret = "BIOS-CF-MARKER-55821"
	f.as(f.tech)
	resp, body := e.post("/o/alpha/docs/configurations", url.Values{"name": {"NB-CF"}, "kind": {"laptop"}, bios: {secret}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d %.400s", resp.StatusCode, body)
	}
	item := resp.Header.Get("Location")
	// Change it once so an older version (sealed to the version row) exists too.
	id, _ := strconv.ParseInt(item[strings.LastIndexByte(item, '/')+1:], 10, 64)
	if resp, _ := e.post(item, url.Values{"name": {"NB-CF"}, "kind": {"laptop"}, "version": {"1"}, bios: {secret + "-neu"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	for _, p := range []string{item, "/o/alpha/docs/configurations", "/o/alpha/export/configurations", "/o/alpha/handbook", item + "/history"} {
		if _, body := e.get(p, nil); strings.Contains(body, secret) {
			t.Errorf("%s shows the secret without a request", p)
		}
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(context.Background(), e.db.Path, out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{e.db.Path, e.db.Path + "-wal", out} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%s holds the custom secret in the clear", filepath.Base(p))
		}
	}
	var sealed []byte
	e.db.R.QueryRow(`SELECT sealed FROM doc_secrets WHERE item_id = ? AND field = ?`, id, bios).Scan(&sealed)
	if len(sealed) == 0 {
		t.Fatal("custom secret not stored in doc_secrets")
	}
	// Customers reveal it through the same path as built-in secrets, audited once per window.
	f.as(f.viewer)
	for range 2 {
		resp, body = e.post(item+"/secret/"+bios, nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, secret+"-neu") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reveal: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	var n int
	var target string
	e.db.R.QueryRow(`SELECT count(*), max(target) FROM audit WHERE action = 'docs.reveal' AND actor_id = ? AND field = ?`, f.viewer.ID, bios).Scan(&n, &target)
	if n != 1 || !strings.Contains(target, "NB-CF (BIOS-Passwort)") {
		t.Errorf("reveal audit: %d entries, target %q", n, target)
	}
	e.clock.Advance(6 * time.Minute)
	e.post(item+"/secret/"+bios, nil, nil)
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'docs.reveal' AND actor_id = ? AND field = ?`, f.viewer.ID, bios).Scan(&n)
	if n != 2 {
		t.Errorf("after the window: %d entries", n)
	}
	// A customer of another organisation cannot.
	f.as(f.stranger)
	if resp, body := e.post(item+"/secret/"+bios, nil, nil); resp.StatusCode != 404 || strings.Contains(body, secret) {
		t.Errorf("stranger reveal: %d", resp.StatusCode)
	}
}
