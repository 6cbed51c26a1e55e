package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

// A WireGuard configuration keeps its line breaks when shown, downloads as a .conf file (audited like
// a reveal, never cached), and its item shows only the fields WireGuard has: no "not set" for a user
// name, password or authentication method that cannot exist. Another VPN kind keeps those fields and
// has no download.
func TestWireGuardConfigPreformattedDownloadAndFieldsPerKind(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	en := map[string]string{"Accept-Language": "en"}
	item := fmt.Sprintf("/o/alpha/docs/vpn/%d", f.items["vpn"])
	_, body := e.get(item, en)
	d := doc(t, body)
	for _, name := range []string{"username", "secret", "auth"} {
		if d.Find(`[data-testid="field-`+name+`"]`).Length() != 0 {
			t.Errorf("a WireGuard tunnel shows the field %q", name)
		}
	}
	if d.Find(`[data-testid="field-config"]`).Length() != 1 || d.Find(`[data-testid="download-config"]`).Length() != 1 {
		t.Fatal("the configuration or its download button is missing")
	}

	_, body = e.post(item+"/secret/config", nil, map[string]string{"HX-Request": "true"})
	pre := doc(t, body).Find(`pre[data-testid="secret-value-config"]`)
	if pre.Length() != 1 || pre.Text() != "[Interface]\nPrivateKey = "+marker {
		t.Fatalf("revealed configuration not preformatted with its lines: %q", body)
	}

	for range 2 {
		resp, conf := e.post(item+"/conf", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("download: %d", resp.StatusCode)
		}
		if conf != "[Interface]\nPrivateKey = "+marker+"\n" {
			t.Fatalf("downloaded file: %q", conf)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=Zentrale.conf` {
			t.Fatalf("Content-Disposition: %q", cd)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the configuration file may be cached")
		}
	}
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.download_conf"); len(got) != 1 || got[0].Target != fmt.Sprintf("%d:vpn.config:Zentrale", f.items["vpn"]) {
		t.Fatalf("downloads: %+v, want one entry per window naming the item and field", got)
	}
	// A link cannot download it (GET), and someone of another organisation gets the same 404 as for nothing.
	if resp, _ := e.get(item+"/conf", nil); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET download: %d", resp.StatusCode)
	}
	f.as(f.stranger)
	if resp, body := e.post(item+"/conf", nil, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, marker) {
		t.Fatalf("another organisation's download: %d", resp.StatusCode)
	}

	// IPsec: user name and pre-shared key apply (shown even when empty), no .conf download.
	id, err := e.db.DocCreate(context.Background(), e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "vpn", Name: "Filiale",
		Fields: map[string]string{"kind": "ipsec"}, Secrets: map[string]string{"config": "conn filiale\n  left=%defaultroute"}}, db.DocActor{Name: "Setup"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.as(f.viewer)
	_, body = e.get(fmt.Sprintf("/o/alpha/docs/vpn/%d", id), en)
	d = doc(t, body)
	for _, name := range []string{"username", "secret", "auth", "config"} {
		if d.Find(`[data-testid="field-`+name+`"]`).Length() != 1 {
			t.Errorf("an IPsec tunnel lacks the field %q", name)
		}
	}
	if d.Find(`[data-testid="download-config"]`).Length() != 0 {
		t.Error("an IPsec configuration is offered as a WireGuard file")
	}
	if resp, _ := e.post(fmt.Sprintf("/o/alpha/docs/vpn/%d/conf", id), url.Values{}, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("IPsec download: %d", resp.StatusCode)
	}
}

// Search: the page has one search box (the menu's, holding the query), a result says which field
// matched, and the names of areas and their synonyms in either language lead to the area.
func TestSearchOneBoxMatchedFieldAndAreaWords(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	if _, err := e.db.DocCreate(context.Background(), e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: "NAS Keller",
		Fields: map[string]string{"kind": "server", "ip": "10.0.0.5", "serial": "SN-99887766", "notes": "Erste Zeile\nBackup-Ziel für das Büro"}},
		db.DocActor{Name: "Setup"}, nil); err != nil {
		t.Fatal(err)
	}
	f.as(f.viewer)
	e.lang("en")
	_, body := e.get("/o/alpha/search?q=SN-99887766", nil)
	d := doc(t, body)
	if n := d.Find(`form[role="search"]`).Length(); n != 1 {
		t.Fatalf("%d search boxes on the results page, want 1", n)
	}
	if v, _ := d.Find(`form[role="search"] input[name="q"]`).Attr("value"); v != "SN-99887766" {
		t.Fatalf("the search box holds %q", v)
	}
	if got := strings.Join(strings.Fields(d.Find(`[data-testid="search-match"]`).Text()), " "); got != "Serial number: SN-99887766" {
		t.Fatalf("matched field: %q", got)
	}
	_, body = e.get("/o/alpha/search?q=backup", nil)
	if got := strings.Join(strings.Fields(doc(t, body).Find(`[data-testid="search-match"]`).Text()), " "); got != "Notes: Backup-Ziel für das Büro" {
		t.Fatalf("matched line of the notes: %q", got)
	}
	for q, area := range map[string]string{
		"wlan": "wireless", "WLAN": "wireless", "Wi-Fi": "wireless", "wireless": "wireless",
		"VPN": "vpn", "Passwort": "passwords", "password": "passwords", "Passwörter": "passwords",
		"Kontakt": "contacts", "contact": "contacts", "Gerät": "configurations", "device": "configurations", "Konfiguration": "configurations",
	} {
		_, body := e.get("/o/alpha/search?q="+url.QueryEscape(q), nil)
		d := doc(t, body)
		link := d.Find(`[data-testid="search-area-` + area + `"]`)
		if href, _ := link.Attr("href"); href != "/o/alpha/docs/"+area {
			t.Errorf("%q does not lead to the area %s: %q", q, area, d.Find(`[data-testid="search-page"]`).Text())
		}
		if d.Find(`[data-testid="search-empty"]`).Length() != 0 {
			t.Errorf("%q: says nothing was found", q)
		}
	}
	// Staff search across organisations has no menu, so its own box.
	f.as(f.tech)
	_, body = e.get("/staff/search?q=10.0.0.5", nil)
	d = doc(t, body)
	if n := d.Find(`form[role="search"]`).Length(); n != 1 || !strings.Contains(d.Find(`[data-testid="search-match"]`).Text(), "10.0.0.5") {
		t.Fatalf("staff search: %d boxes, match %q", n, d.Find(`[data-testid="search-match"]`).Text())
	}
}

// Warranty ends: ended and ending soon look different and say so in words (not colour alone), on the
// list and the item's page, and the list filters by state — served from the list cache and from SQL
// (with a search) alike.
func TestWarrantyStatesInWordsAndFilter(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	now := e.clock.Now()
	day := func(d int) string { return now.AddDate(0, 0, d).Format("2006-01-02") }
	ids := map[string]int64{}
	for name, end := range map[string]string{"Old NAS": day(-1), "Switch soon": day(10), "Switch today": day(0), "New server": day(200)} {
		id, err := e.db.DocCreate(context.Background(), e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: name,
			Fields: map[string]string{"kind": "server", "warranty_end": end}}, db.DocActor{Name: "Setup"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	f.as(f.viewer)
	e.lang("en")
	_, body := e.get("/o/alpha/docs/configurations", nil)
	d := doc(t, body)
	row := func(name string) string {
		return strings.Join(strings.Fields(d.Find(fmt.Sprintf(`[data-testid="row-%d"]`, ids[name])).Text()), " ")
	}
	if r := row("Old NAS"); !strings.Contains(r, "Warranty has ended") {
		t.Errorf("ended warranty without words: %q", r)
	}
	for _, n := range []string{"Switch soon", "Switch today"} {
		if r := row(n); !strings.Contains(r, "Warranty ends within 45 days") || strings.Contains(r, "ended") {
			t.Errorf("%s: %q", n, r)
		}
	}
	if r := row("New server"); strings.Contains(r, "Warranty") {
		t.Errorf("a good warranty is highlighted: %q", r)
	}
	if d.Find(`mark.state-over`).Length() != 1 || d.Find(`mark.state-soon`).Length() != 2 {
		t.Error("the two states do not look different")
	}
	_, body = e.get(fmt.Sprintf("/o/alpha/docs/configurations/%d", ids["Old NAS"]), nil)
	if doc(t, body).Find(`[data-testid="state-over"]`).Text() != "Warranty has ended" {
		t.Error("item page: the ended warranty is not said in words")
	}
	for _, q := range []string{"", "&q=server"} { // the cached list, and SQL
		for state, want := range map[string][]string{"over": {"Old NAS"}, "soon": {"Switch soon", "Switch today"}, "valid": {"New server"}} {
			_, body := e.get("/o/alpha/docs/configurations?f.warranty_end="+state+q, nil)
			d := doc(t, body)
			var got []string
			d.Find(`[data-testid="row-link"]`).Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
			sort.Strings(got)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("filter %s%s: %v, want %v", state, q, got, want)
			}
			if v, _ := d.Find(`select[name="f.warranty_end"] option[selected]`).Attr("value"); v != state {
				t.Errorf("filter %s: the select shows %q", state, v)
			}
		}
	}
}

// History: each version says what changed, field by field, in readable values; a secret is only said to
// be set, changed or removed, and its values before and after are shown on request, each reveal audited.
func TestHistoryDiffPerFieldWithSecretsOnRequest(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	e.lang("en")
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	for i, form := range []url.Values{
		{"name": {"NAS admin"}, "username": {"root"}, "category": {"device"}, "password": {"neu-" + marker}, "version": {"1"}},
		{"name": {"NAS admin"}, "username": {"root"}, "category": {"device"}, "notes": {"Zugang nur im Notfall"}, "clear.password": {"1"}, "version": {"2"}},
	} {
		if resp, _ := e.post(item, form, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("update %d: %d", i+1, resp.StatusCode)
		}
	}
	_, body := e.get(item+"/history", nil)
	if strings.Contains(body, marker) {
		t.Fatal("the history shows a secret without being asked")
	}
	d := doc(t, body)
	changes := func(v int) []string {
		var out []string
		d.Find(fmt.Sprintf(`[data-testid="version-%d"] [data-testid="vchange"]`, v)).Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.Join(strings.Fields(s.Text()), " "))
		})
		return out
	}
	if got := strings.Join(changes(2), " | "); got != "Category: (empty) → Device | User name: admin → root" {
		t.Errorf("version 2 changes: %q", got)
	}
	if got := strings.Join(changes(3), " | "); got != "Notes: (empty) → Zugang nur im Notfall" {
		t.Errorf("version 3 changes: %q", got)
	}
	state := func(v int) string {
		return strings.Join(strings.Fields(d.Find(fmt.Sprintf(`[data-testid="vsecret-change-%d-password"]`, v)).Text()), " ")
	}
	for v, want := range map[int]string{1: "Password: set", 2: "Password: changed", 3: "Password: removed"} {
		if got := state(v); !strings.HasPrefix(got, want) {
			t.Errorf("version %d: %q, want %q", v, got, want)
		}
	}
	if d.Find(`[data-testid="vreveal-3-password"]`).Length() != 0 || d.Find(`[data-testid="vreveal-prev-1-password"]`).Length() != 0 {
		t.Error("a value is offered that does not exist")
	}
	reveal := func(testid string) string {
		action, ok := d.Find(`[data-testid="` + testid + `"]`).Closest("form").Attr("action")
		if !ok {
			t.Fatalf("no %s", testid)
		}
		_, body := e.post(action, nil, map[string]string{"HX-Request": "true"})
		return doc(t, body).Find(`[data-testid="secret-value-password"]`).Text()
	}
	if got := reveal("vreveal-prev-2-password"); got != marker {
		t.Errorf("value before version 2: %q", got)
	}
	if got := reveal("vreveal-2-password"); got != "neu-"+marker {
		t.Errorf("value of version 2: %q", got)
	}
	if got := reveal("vreveal-prev-3-password"); got != "neu-"+marker {
		t.Errorf("value before its removal: %q", got)
	}
	if n := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.reveal_old")); n != 3 {
		t.Errorf("%d reveals of earlier values in the log, want 3", n)
	}
}
