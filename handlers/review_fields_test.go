package handlers

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

// Review of custom fields, the expiry overview and its digest, attachments: attacks through the real
// router, each pinned by a test that failed before its fix.

// The digest goes to the addresses the organisation named, but never to a person who was disabled, nor
// to an account that belongs only to another organisation (a manager typing a stranger's address, or a
// list saved before the person left): their address is skipped at sending time. An address that is no
// account (the office mailbox) and MSP staff still get it.
func TestExpiryDigestReachesOnlyThoseWhoStillBelong(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	gone := e.createUser("gone@alpha.example", "Gerd Gegangen", "", map[int64]string{f.a.ID: "viewer"})
	f.as(f.mgr)
	rcpt := []string{"buero@alpha.example", f.viewer.Email, gone.Email, f.stranger.Email, f.tech.Email}
	if resp, body := e.post("/o/alpha/expiry/digest", url.Values{"recipients": {strings.Join(rcpt, "\n")}, "lang": {"en"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("digest settings: %d %.300s", resp.StatusCode, body)
	}
	// Gerd leaves: his account is disabled after the list was saved.
	if err := e.db.SetDisabled(context.Background(), gone.ID, true); err != nil {
		t.Fatal(err)
	}
	n, err := e.srv.docs.SendExpiryDigests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range e.mails() {
		if m.Kind == "mail.expiry_digest.subject" || strings.Contains(m.Subject, "expires soon") {
			got = append(got, m.To)
			if strings.Contains(m.Text, "Intern-Zertifikat") {
				t.Errorf("digest to %s holds a staff-only entry", m.To)
			}
		}
	}
	slices.Sort(got)
	want := []string{"buero@alpha.example", f.tech.Email, f.viewer.Email}
	slices.Sort(want)
	if !slices.Equal(got, want) || n != len(want) {
		t.Errorf("digest went to %v (%d counted), want %v", got, n, want)
	}
}

// Dates at the ends of what a date field takes (0001-01-01 … 9999-12-31) are counted in days exactly:
// time.Duration holds only 292 years, so the difference of two such days had saturated and a domain
// expiring in 9999 showed "in 106751 days".
func TestExpiryFarDatesCountDaysExactly(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	for name, d := range map[string]string{"Weit weg": "9999-12-31", "Lange her": "0001-01-01"} {
		if _, err := e.db.ExpiryCreate(ctx, db.Expiry{OrgID: f.a.ID, Kind: "domain", Name: name, ExpiresOn: d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.as(f.viewer)
	_, body := e.get("/o/alpha/expiry?window=all", map[string]string{"Accept-Language": "en"})
	rows := strings.Join(rowsOf(t, body), "\n")
	today := e.clock.Now()                            // the viewer's calendar day: the clock runs in their zone
	civil := func(y int, m time.Month, d int) int64 { // days since 0001-01-01, proleptic Gregorian
		t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return t.Unix()/86400 - time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()/86400
	}
	now := civil(today.Year(), today.Month(), today.Day())
	for _, want := range []string{
		"in " + strconv.FormatInt(civil(9999, 12, 31)-now, 10) + " days",
		strconv.FormatInt(now-civil(1, 1, 1), 10) + " days ago",
	} {
		if !strings.Contains(rows, want) {
			t.Errorf("overview lacks %q:\n%s", want, rows)
		}
	}
}

// A person who manages one organisation and only reads another acts as a reader there: the other
// organisation's digest and expiry entries are not theirs to change, by any id.
func TestExpiryAuthorityFollowsTheRouteOrganisation(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	both := e.createUser("both@alpha.example", "Bea Beides", "", map[int64]string{f.a.ID: "manager", f.b.ID: "viewer"})
	var betaEntry string
	e.db.R.QueryRow(`SELECT id FROM expiries WHERE org_id = ?`, f.b.ID).Scan(&betaEntry)
	f.as(both)
	if resp, _ := e.post("/o/beta/expiry/digest", url.Values{"recipients": {"x@beta.example"}, "lang": {"en"}}, nil); resp.StatusCode != 404 {
		t.Errorf("reader of beta saves beta's digest: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/o/alpha/expiry/"+betaEntry+"/delete", nil, nil); resp.StatusCode != 404 {
		t.Errorf("beta's entry through alpha: %d", resp.StatusCode)
	}
	_, body := e.get("/o/beta/expiry", nil)
	if strings.Contains(body, `action="/o/beta/expiry/digest"`) {
		t.Error("reader of beta is offered beta's digest form")
	}
	if resp, _ := e.post("/o/alpha/expiry/digest", url.Values{"recipients": {"x@alpha.example"}, "lang": {"en"}}, nil); resp.StatusCode != 303 {
		t.Errorf("manager of alpha: %d", resp.StatusCode)
	}
	if dg, _ := e.db.ExpiryDigestOf(context.Background(), f.b.ID); len(dg.Recipients) != 0 {
		t.Errorf("beta's digest changed: %v", dg.Recipients)
	}
	f.as(f.tech)
	if resp, _ := e.post("/o/alpha/expiry/"+betaEntry+"/delete", nil, nil); resp.StatusCode != 404 {
		t.Errorf("staff delete beta's entry through alpha: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM expiries WHERE id = ?`, betaEntry); n != 1 {
		t.Error("beta's entry deleted")
	}
}

// Removing or renaming a choice that entries hold is refused: the edit form offers only the listed
// choices, so before, the next save of such an entry — here a customer manager changing a contact's phone
// number — erased the value without anyone choosing to. Choices nobody uses can go.
func TestChoiceInUseIsNotDroppedFromTheList(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	tier := addField(t, e, url.Values{"area": {"contacts"}, "kind": {"choice"}, "label": {"Ansprechstufe"}, "options": {"Gold\nSilber\nBronze"}})
	f.as(f.tech)
	item := "/o/alpha/docs/contacts/" + strconv.FormatInt(f.items["contacts"], 10)
	if resp, body := e.post(item, url.Values{"name": {"Anna Kontakt"}, "email": {"anna@alpha.example"}, tier: {"Silber"}, "version": {"1"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("set choice: %d %.300s", resp.StatusCode, body)
	}
	f.as(admin)
	edit := "/staff/fields/" + strings.TrimPrefix(tier, "cf_")
	for _, opts := range []string{"Gold\nBronze", "Gold\nSilver\nBronze"} {
		if resp, _ := e.post(edit, url.Values{"label": {"Ansprechstufe"}, "options": {opts}, "version": {"1"}}, nil); resp.StatusCode != 422 {
			t.Errorf("options %q while Silber is in use: %d", opts, resp.StatusCode)
		}
	}
	if resp, _ := e.post(edit, url.Values{"label": {"Ansprechstufe"}, "options": {"Silber\nGold"}, "version": {"1"}}, nil); resp.StatusCode != 303 {
		t.Errorf("dropping the unused Bronze: %d", resp.StatusCode)
	}
	// The manager's unrelated edit keeps the value.
	f.as(f.mgr)
	_, form := e.get(item+"/edit", nil)
	vals := url.Values{}
	doc(t, form).Find("form input[name], form select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if s.Is("select") {
			v, _ := s.Find("option[selected]").Attr("value")
			vals.Set(name, v)
			return
		}
		if typ, _ := s.Attr("type"); typ == "checkbox" {
			if _, on := s.Attr("checked"); on {
				vals.Set(name, "1")
			}
			return
		}
		v, _ := s.Attr("value")
		vals.Set(name, v)
	})
	vals.Set("phone", "+49 30 123456")
	if resp, body := e.post(item, vals, nil); resp.StatusCode != 303 {
		t.Fatalf("manager edit: %d %.300s", resp.StatusCode, body)
	}
	var fields string
	e.db.R.QueryRow(`SELECT fields FROM doc_items WHERE id = ?`, f.items["contacts"]).Scan(&fields)
	if !strings.Contains(fields, `"`+tier+`":"Silber"`) {
		t.Errorf("the choice was lost: %s", fields)
	}
}

// A file's name cannot pretend to another type by reversing its end: bidirectional overrides and other
// format characters, and C1 controls, are dropped before the name is stored, listed or sent.
func TestAttachmentNameCannotReverseItsExtension(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := "/o/alpha/docs/configurations/" + strconv.FormatInt(f.items["configurations"], 10)
	f.as(f.tech)
	zip := []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00" + strings.Repeat("\x00", 40))
	const sent = "Rechnung\u202Efdp.zip"
	if resp, _ := e.upload(fw, sent, zip, false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	var stored string
	e.db.R.QueryRow(`SELECT name FROM doc_attachments ORDER BY id DESC LIMIT 1`).Scan(&stored)
	if stored != "Rechnungfdp.zip" {
		t.Errorf("stored name %q", stored)
	}
	for in, want := range map[string]string{"a\u0085b\u200Fc\u2066.txt": "abc.txt", "\uFEFFnotiz.txt": "notiz.txt", "Übergabe.pdf": "Übergabe.pdf"} {
		if got := cleanFileName(in); got != want {
			t.Errorf("cleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A custom field cannot take the name of one of its area's own fields, in either language: CSV columns
// are matched by these names and custom fields stand before the notes, so a field "Notizen" took every
// imported notes column, and a plain-text "Password" column stood beside the sealed one.
func TestCustomFieldCannotPoseAsABuiltInField(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	for _, v := range []url.Values{
		{"area": {"configurations"}, "kind": {"text"}, "label": {"Notizen"}},
		{"area": {"configurations"}, "kind": {"text"}, "label": {"notes"}},
		{"area": {"passwords"}, "kind": {"text"}, "label": {"PASSWORD"}},
		{"area": {"passwords"}, "kind": {"secret"}, "label": {"Passwort"}},
	} {
		if resp, _ := e.post("/staff/fields", v, nil); resp.StatusCode != 422 {
			t.Errorf("%v: %d", v, resp.StatusCode)
		}
	}
	ok := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"text"}, "label": {"Passwort-Hinweis"}})
	if resp, _ := e.post("/staff/fields/"+strings.TrimPrefix(ok, "cf_"), url.Values{"label": {"Notes"}}, nil); resp.StatusCode != 422 {
		t.Errorf("renamed to Notes: %d", resp.StatusCode)
	}
	// The notes column of an import goes into the notes.
	f.as(f.tech)
	csv := "Name,Art,Notizen\nSRV-N,Server,Rack 3\n"
	resp, preview := e.postFile("/o/alpha/import/configurations", "c.csv", []byte(csv), map[string]string{"Accept-Language": "de"})
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d", resp.StatusCode)
	}
	e.confirmImport("/o/alpha/import/configurations", preview)
	var fields string
	e.db.R.QueryRow(`SELECT fields FROM doc_items WHERE name = 'SRV-N'`).Scan(&fields)
	if !strings.Contains(fields, `"notes":"Rack 3"`) {
		t.Errorf("imported: %s", fields)
	}
}

// Two administrators change one field at once: the second save, made from the version both saw, is
// refused with the typed input kept, instead of silently undoing the first one's choices. Of ten saves
// sent in parallel from the same version, one is stored.
func TestParallelFieldDefinitionEditsOneWins(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	tier := addField(t, e, url.Values{"area": {"configurations"}, "kind": {"choice"}, "label": {"Stufe"}, "options": {"Gold\nSilber"}})
	edit := "/staff/fields/" + strings.TrimPrefix(tier, "cf_")
	_, form := e.get(edit, nil)
	seen, _ := doc(t, form).Find(`input[name="version"]`).Attr("value")
	if seen != "1" {
		t.Fatalf("form carries version %q", seen)
	}
	// Ada adds a choice; Bruno, from the same form, only renames the field.
	if resp, _ := e.post(edit, url.Values{"label": {"Stufe"}, "options": {"Gold\nSilber\nPlatin"}, "version": {seen}}, nil); resp.StatusCode != 303 {
		t.Fatalf("first save: %d", resp.StatusCode)
	}
	resp, body := e.post(edit, url.Values{"label": {"Support-Stufe"}, "options": {"Gold\nSilber"}, "version": {seen}}, nil)
	if resp.StatusCode != 409 || !strings.Contains(body, "Support-Stufe") {
		t.Errorf("second save from the old version: %d", resp.StatusCode)
	}
	if v, _ := doc(t, body).Find(`input[name="version"]`).Attr("value"); v != "2" {
		t.Errorf("conflict form carries version %q", v)
	}
	var opts string
	e.db.R.QueryRow(`SELECT options FROM custom_fields WHERE id = ?`, strings.TrimPrefix(tier, "cf_")).Scan(&opts)
	if opts != "Gold\nSilber\nPlatin" {
		t.Errorf("options now %q", opts)
	}
	// Ten at once from version 2: one is stored.
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 10 {
		wg.Go(func() {
			resp, _ := e.post(edit, url.Values{"label": {"Stufe " + strconv.Itoa(i)}, "options": {"Gold\nSilber\nPlatin"}, "version": {"2"}}, nil)
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[303] != 1 || codes[409] != 9 {
		t.Errorf("parallel saves: %v", codes)
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'fields.update'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d update entries, want 2", n)
	}
}
