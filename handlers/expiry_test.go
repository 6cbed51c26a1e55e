package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
	"portier/mail"
	"portier/testkit"
)

// expiryFixture adds to the docs fixture: a warranty ending in 12 days, a licence in 10 days, a domain
// that expired 3 days ago, a contract in 200 days, a staff-only certificate in 5 days (all org A), a
// licence of org B in 7 days, and a stored password last set 400 days ago.
func expiryFixture(t *testing.T) *docsFixture {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	day := func(n int) string { return e.clock.Now().AddDate(0, 0, n).Format("2006-01-02") }
	if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: "NAS-Garantie",
		Fields: map[string]string{"kind": "server", "warranty_end": day(12)}}, db.DocActor{Name: "Setup"}, nil); err != nil {
		t.Fatal(err)
	}
	f.as(f.tech)
	for _, x := range []url.Values{
		{"kind": {"licence"}, "name": {"M365 Business"}, "expires_on": {day(10)}},
		{"kind": {"domain"}, "name": {"alpha.example"}, "expires_on": {day(-3)}},
		{"kind": {"contract"}, "name": {"Wartungsvertrag"}, "expires_on": {day(200)}},
		{"kind": {"certificate"}, "name": {"Intern-Zertifikat"}, "expires_on": {day(5)}, "staff_only": {"1"}},
	} {
		if resp, body := e.post("/o/alpha/expiry", x, nil); resp.StatusCode != 303 {
			t.Fatalf("add %v: %d %.300s", x, resp.StatusCode, body)
		}
	}
	if _, err := e.db.ExpiryCreate(ctx, db.Expiry{OrgID: f.b.ID, Kind: "licence", Name: "Beta-Lizenz", ExpiresOn: day(7)}, nil); err != nil {
		t.Fatal(err)
	}
	// The fixture's "NAS admin" password was set 400 days ago.
	if _, err := e.db.W.Exec(`UPDATE doc_versions SET changed_at = ? WHERE item_id = ?`, e.clock.Now().AddDate(0, 0, -400).Unix(), f.items["passwords"]); err != nil {
		t.Fatal(err)
	}
	return f
}

func rowsOf(t *testing.T, body string) []string {
	var out []string
	doc(t, body).Find(`[data-testid="expiry-row"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(s.Text()), " "))
	})
	return out
}

func TestExpiryOverviewForCustomersAndStaff(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	f.as(f.viewer)
	en := map[string]string{"Accept-Language": "en"}
	resp, body := e.get("/o/alpha/expiry?window=30", en)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	rows := rowsOf(t, body)
	joined := strings.Join(rows, "\n")
	// Sorted by date: the password (due 35 days ago), the domain, the licence, the warranty.
	want := []string{"NAS admin", "alpha.example", "M365 Business", "NAS-Garantie"}
	if len(rows) != len(want) {
		t.Fatalf("rows:\n%s", joined)
	}
	for i, w := range want {
		if !strings.Contains(rows[i], w) {
			t.Errorf("row %d = %q, want %q", i, rows[i], w)
		}
	}
	for _, w := range []string{"Licence", "Domain", "Warranty", "Password due for change", "in 10 days", "3 days ago"} {
		if !strings.Contains(joined, w) {
			t.Errorf("overview lacks %q:\n%s", w, joined)
		}
	}
	for _, never := range []string{"Intern-Zertifikat", "Beta-Lizenz", "Wartungsvertrag"} {
		if strings.Contains(body, never) {
			t.Errorf("30-day overview of a customer shows %q", never)
		}
	}
	_, body = e.get("/o/alpha/expiry?window=expired", en)
	if rows := rowsOf(t, body); len(rows) != 2 || !strings.Contains(strings.Join(rows, " "), "alpha.example") {
		t.Errorf("expired: %v", rows)
	}
	_, body = e.get("/o/alpha/expiry?window=all&sort=name", en)
	rows = rowsOf(t, body)
	if len(rows) != 5 || !strings.Contains(rows[0], "alpha.example") || !strings.Contains(rows[4], "Wartungsvertrag") {
		t.Errorf("all by name: %v", rows)
	}
	_, body = e.get("/o/alpha/expiry?window=all&sort=name&desc=1", en)
	if rows := rowsOf(t, body); len(rows) != 5 || !strings.Contains(rows[0], "Wartungsvertrag") {
		t.Errorf("all by name, descending: %v", rows)
	}
	// In German (the person's choice).
	e.post("/lang", url.Values{"lang": {"de"}}, nil)
	_, body = e.get("/o/alpha/expiry?window=30", nil)
	for _, w := range []string{"Was läuft bald ab", "Lizenz", "in 10 Tagen", "vor 3 Tagen", "Nächste 30 Tage"} {
		if !strings.Contains(body, w) {
			t.Errorf("German overview lacks %q", w)
		}
	}
	// Customers add or remove nothing, and a viewer does not choose the digest's recipients.
	var xid string
	e.db.R.QueryRow(`SELECT id FROM expiries WHERE name = 'M365 Business'`).Scan(&xid)
	for _, p := range []string{"/o/alpha/expiry", "/o/alpha/expiry/" + xid + "/delete", "/o/alpha/expiry/digest"} {
		if resp, _ := e.post(p, url.Values{"kind": {"licence"}, "name": {"x"}, "expires_on": {"2030-01-01"}, "recipients": {"a@b.example"}}, nil); resp.StatusCode != 404 {
			t.Errorf("viewer POST %s = %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.get("/staff/expiry", nil); resp.StatusCode != 404 {
		t.Errorf("viewer sees the staff overview: %d", resp.StatusCode)
	}
	f.as(f.stranger)
	if resp, _ := e.get("/o/alpha/expiry", nil); resp.StatusCode != 404 {
		t.Errorf("stranger: %d", resp.StatusCode)
	}
	// Staff see every organisation, staff-only entries included, and may sort by organisation.
	f.as(f.tech)
	_, body = e.get("/staff/expiry?window=30&sort=org", en)
	joined = strings.Join(rowsOf(t, body), "\n")
	for _, w := range []string{"Intern-Zertifikat", "Beta-Lizenz", "Alpha GmbH", "Beta AG"} {
		if !strings.Contains(joined, w) {
			t.Errorf("staff overview lacks %q:\n%s", w, joined)
		}
	}
	if strings.Index(joined, "Alpha GmbH") > strings.Index(joined, "Beta AG") {
		t.Error("not sorted by organisation")
	}
	resp, _ = e.post("/o/alpha/expiry/"+xid+"/delete", nil, nil)
	if resp.StatusCode != 303 || countRows(t, e, `SELECT count(*) FROM expiries WHERE id = ?`, xid) != 0 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/o/beta/expiry/"+xid+"/delete", nil, nil); resp.StatusCode != 404 {
		t.Errorf("delete of a gone entry: %d", resp.StatusCode)
	}
	// Invalid additions come back with messages.
	if resp, _ := e.post("/o/alpha/expiry", url.Values{"kind": {"licence"}, "name": {""}, "expires_on": {"31.02.2027"}}, nil); resp.StatusCode != 422 {
		t.Errorf("invalid addition: %d", resp.StatusCode)
	}
}

// The weekly digest goes, through the outbox, to the addresses the organisation chose, in its language,
// with what its customers may see; once per week however often (and however parallel) the scheduler asks.
func TestExpiryDigestWeeklyThroughSMTP(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	smtp := testkit.SMTP(t)
	f.as(f.mgr)
	if resp, _ := e.post("/o/alpha/expiry/digest", url.Values{"recipients": {"keine-adresse"}, "lang": {"de"}}, nil); resp.StatusCode != 422 {
		t.Fatalf("bad address accepted: %d", resp.StatusCode)
	}
	resp, _ := e.post("/o/alpha/expiry/digest", url.Values{"recipients": {"buero@alpha.example\nChef@Alpha.example"}, "lang": {"de"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("digest settings: %d", resp.StatusCode)
	}
	ctx := context.Background()
	n, err := e.srv.docs.SendExpiryDigests(ctx)
	if err != nil || n != 2 {
		t.Fatalf("first digest: %d mails, %v", n, err)
	}
	w := &mail.Worker{DB: e.db, Sealer: e.srv.cfg.Sealer, Sender: &mail.SMTP{URL: mustURL(t, smtp.URL()), From: "portier@muster-it.example"}, Log: e.srv.log}
	w.SendDue(ctx, ctx)
	msg := smtp.WaitFor(t, "buero@alpha.example", 5*time.Second)
	smtp.WaitFor(t, "chef@alpha.example", 5*time.Second)
	if msg.Subject != "Was bei Alpha GmbH bald abläuft" {
		t.Errorf("subject %q", msg.Subject)
	}
	for _, want := range []string{"M365 Business", "alpha.example", "NAS-Garantie", "NAS admin", "Lizenz", "in 10 Tagen", "/o/alpha/expiry?window=30"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("digest lacks %q:\n%s", want, msg.Text)
		}
	}
	for _, never := range []string{"Intern-Zertifikat", "Beta-Lizenz", "Wartungsvertrag", marker} {
		if strings.Contains(msg.Text, never) || strings.Contains(msg.HTML, never) {
			t.Errorf("digest shows %q", never)
		}
	}
	// Asked again the same week: nothing.
	if n, _ := e.srv.docs.SendExpiryDigests(ctx); n != 0 {
		t.Errorf("second run in the same week queued %d", n)
	}
	// A week later, five schedulers at once: one digest.
	e.clock.Advance(7*24*time.Hour + time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 5 {
		wg.Go(func() {
			n, err := e.srv.docs.SendExpiryDigests(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 2 {
		t.Errorf("parallel runs a week later queued %d mails, want 2", total)
	}
	// No recipients: no digest.
	f.as(f.mgr) // the week ended the session
	e.post("/o/alpha/expiry/digest", url.Values{"recipients": {""}, "lang": {"en"}}, nil)
	e.clock.Advance(8 * 24 * time.Hour)
	if n, _ := e.srv.docs.SendExpiryDigests(ctx); n != 0 {
		t.Errorf("digest without recipients: %d", n)
	}
}

// When a person confirms a new address, the digest lists that named the old one follow, in the same
// transaction: the digest goes to the new address, not to the old one, which may be a former employer's
// mailbox by now. Before, the lists kept the old address, which — no account's any more — passed as a
// mailbox the organisation named, and the digest went on to it. A list that names the new address
// already just drops the old one; the list of an organisation the person does not belong to stays as it
// is (TestAddressChangeLeavesAnotherOrganisationsDigestListAlone): it typed the address, which is now a
// mailbox like any other it named.
func TestExpiryDigestFollowsAConfirmedAddressChange(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	ctx := context.Background()
	smtp := testkit.SMTP(t)
	f.as(f.mgr)
	alpha := []string{"buero@alpha.example", f.viewer.Email, f.mgr.Email, "mia.neu@alpha.example"}
	if resp, _ := e.post("/o/alpha/expiry/digest", url.Values{"recipients": {strings.Join(alpha, "\n")}, "lang": {"en"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("digest settings: %d", resp.StatusCode)
	}
	// Beta typed Vera's address, though she is not one of theirs.
	if err := e.db.SetExpiryDigest(ctx, db.ExpiryDigest{OrgID: f.b.ID, Lang: "en", Recipients: []string{f.viewer.Email, "einkauf@beta.example"}}, nil); err != nil {
		t.Fatal(err)
	}
	change := func(u *db.User, to string) {
		t.Helper()
		f.as(u)
		if resp, _ := e.post("/profile/email", url.Values{"email": {to}, "current_password": {testPassword}}, nil); resp.StatusCode != 303 {
			t.Fatalf("change of %s: %d", u.Email, resp.StatusCode)
		}
		if resp, body := e.confirmAddress(t, linkIn(t, e.lastMailTo(to)), nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm-done"`) {
			t.Fatalf("confirm %s: %d", to, resp.StatusCode)
		}
	}
	change(f.viewer, "vera.privat@example.org")
	change(f.mgr, "mia.neu@alpha.example")
	for org, want := range map[int64][]string{
		f.a.ID: {"buero@alpha.example", "vera.privat@example.org", "mia.neu@alpha.example"},
		f.b.ID: {"viewer@alpha.example", "einkauf@beta.example"},
	} {
		if dg, err := e.db.ExpiryDigestOf(ctx, org); err != nil || !slices.Equal(dg.Recipients, want) {
			t.Errorf("org %d's digest goes to %v (%v), want %v", org, dg.Recipients, err, want)
		}
	}

	if _, err := e.srv.docs.SendExpiryDigests(ctx); err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{DB: e.db, Sealer: e.srv.cfg.Sealer, Sender: &mail.SMTP{URL: mustURL(t, smtp.URL()), From: "portier@muster-it.example"}, Log: e.srv.log}
	w.SendDue(ctx, ctx)
	smtp.WaitFor(t, "vera.privat@example.org", 5*time.Second)
	got := map[string]int{}
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Subject, "expires soon") {
			for _, to := range m.To {
				got[strings.ToLower(to)]++
			}
		}
	}
	want := map[string]int{"buero@alpha.example": 1, "vera.privat@example.org": 1, "mia.neu@alpha.example": 1, "einkauf@beta.example": 1,
		"viewer@alpha.example": 1} // Beta's, to the mailbox it named, no account's any more
	if !maps.Equal(got, want) {
		t.Errorf("digests went to %v, want %v", got, want)
	}
}

// A confirmed change of address that rewrites organisations' expiry digest lists (db.RenameDigestRecipient)
// leaves an entry in each such organisation's log, written in the confirmation's transaction — also for
// a list that named the old address only since the confirmation's request began (here: while it waits for
// the writer). Where the digest reaches the person (their organisation) the entry names the new address
// in the old one's place; an organisation the person does not belong to, which typed the old address
// itself, keeps its list and gets no entry (TestAddressChangeLeavesAnotherOrganisationsDigestListAlone).
// Before, the lists changed without a word in any log.
func TestConfirmedAddressChangeLogsTheDigestListsItRewrites(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	ctx := context.Background()
	mgrB := e.createUser("bm@beta.example", "Berta Manager", "", map[int64]string{f.b.ID: "manager"})
	old := f.viewer.Email
	f.as(f.viewer)
	if resp, _ := e.post("/profile/email", url.Values{"email": {"vera.privat@example.org"}, "current_password": {testPassword}}, nil); resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	resp, page := e.get(linkIn(t, e.lastMailTo("vera.privat@example.org")), nil)
	button, _ := doc(t, page).Find(`[data-testid="confirm-ask"] form[method="post"]`).Attr("action")
	if resp.StatusCode != http.StatusOK || button == "" {
		t.Fatalf("the link's page: %d", resp.StatusCode)
	}
	resp, body := e.whileWriterHeld(t, func() (*http.Response, string) { return e.post(button, nil, nil) }, func(tx *sql.Tx) error {
		// Alpha names Vera's address; Beta types it too, though she is not one of theirs.
		if _, err := tx.Exec(`INSERT INTO expiry_digests(org_id, recipients, lang) VALUES (?, ?, 'en')`, f.a.ID, "buero@alpha.example\n"+old); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO expiry_digests(org_id, recipients, lang) VALUES (?, ?, 'en')`, f.b.ID, old+"\neinkauf@beta.example")
		return err
	})
	if resp.StatusCode != http.StatusOK || doc(t, body).Find(`[data-testid="confirm-done"]`).Length() != 1 {
		t.Fatalf("confirm: %d %s", resp.StatusCode, messageID(t, body))
	}
	type entry struct {
		actor         sql.NullInt64
		name, target  string
		ip, userAgent string
	}
	entries := map[int64]entry{}
	rows, err := e.db.R.Query(`SELECT org_id, actor_id, actor_name, target, ip, user_agent FROM audit WHERE action = 'expiry.digest_recipient'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var org int64
		var en entry
		if err := rows.Scan(&org, &en.actor, &en.name, &en.target, &en.ip, &en.userAgent); err != nil {
			t.Fatal(err)
		}
		if _, dup := entries[org]; dup {
			t.Errorf("two entries for org %d", org)
		}
		entries[org] = en
	}
	rows.Close()
	if len(entries) != 1 {
		t.Fatalf("entries for %d organisations, want 1: %+v", len(entries), entries)
	}
	if a := entries[f.a.ID]; a.actor.Int64 != f.viewer.ID || a.target != old+" → vera.privat@example.org" || a.ip == "" {
		t.Errorf("Alpha's entry: %+v", a)
	}
	if dg, err := e.db.ExpiryDigestOf(ctx, f.b.ID); err != nil || !slices.Equal(dg.Recipients, []string{old, "einkauf@beta.example"}) {
		t.Errorf("Beta's list: %v (%v)", dg.Recipients, err)
	}
	// Each organisation's manager reads it in the log, in words, or not at all.
	for _, c := range []struct {
		who        *db.User
		slug, want string
		rows       int
	}{
		{f.mgr, "alpha", old + " replaced by vera.privat@example.org", 1},
		{mgrB, "beta", "", 0},
	} {
		f.as(c.who)
		_, logPage := e.get("/o/"+c.slug+"/audit", map[string]string{"Accept-Language": "en"})
		row := doc(t, logPage).Find(`[data-testid=audit-row][data-action="expiry.digest_recipient"]`)
		if row.Length() != c.rows || !strings.Contains(row.Text(), c.want) || strings.Contains(row.Text(), "expiry.digest") {
			t.Errorf("%s's log: %d rows %q", c.slug, row.Length(), strings.Join(strings.Fields(row.Text()), " "))
		}
	}
}

// A person's change of address leaves the digest list of an organisation they do not belong to as it
// was, with no entry in its log. That organisation typed the old address itself; its digest never
// reached it (ExpiryDigestReach: an account outside the organisation). Dropping it there, with an entry
// saying "the person behind it changed their address", told that organisation's managers that the address
// was the account of another organisation's customer, and when it changed — what nothing may tell a
// customer (docs/security.md, Access) — and let a person outside the organisation change its settings.
func TestAddressChangeLeavesAnotherOrganisationsDigestListAlone(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	ctx := context.Background()
	mgrB := e.createUser("bm@beta.example", "Berta Manager", "", map[int64]string{f.b.ID: "manager"})
	old := f.viewer.Email
	beta := []string{old, "einkauf@beta.example"}
	if err := e.db.SetExpiryDigest(ctx, db.ExpiryDigest{OrgID: f.b.ID, Lang: "en", Recipients: beta}, nil); err != nil {
		t.Fatal(err)
	}
	f.as(f.viewer)
	if resp, _ := e.post("/profile/email", url.Values{"email": {"vera.privat@example.org"}, "current_password": {testPassword}}, nil); resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, body := e.confirmAddress(t, linkIn(t, e.lastMailTo("vera.privat@example.org")), nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm-done"`) {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if dg, err := e.db.ExpiryDigestOf(ctx, f.b.ID); err != nil || !slices.Equal(dg.Recipients, beta) {
		t.Errorf("Beta's list: %v (%v), want %v", dg.Recipients, err, beta)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE org_id = ? AND action = 'expiry.digest_recipient'`, f.b.ID); n != 0 {
		t.Errorf("Beta's log has %d entries about the address change", n)
	}
	f.as(mgrB)
	_, logPage := e.get("/o/beta/audit", map[string]string{"Accept-Language": "en"})
	if strings.Contains(logPage, old) || strings.Contains(logPage, "changed their address") {
		t.Errorf("Beta's log page tells of the change")
	}
}

// Calendar days are the viewer's (Europe/Berlin), on pages served from the list cache too: at 23:10 UTC
// it is the next day in Berlin, so a warranty that ended "today" twenty minutes earlier has ended, though
// in UTC the day has not changed; and "in N days" counts dates, not 24-hour spans, so across the
// 23-hour day in March two days remain where only 47½ hours do. Tests that derived their dates in UTC
// failed in that hour (the lead's commit dcf39ea); these pin the instants instead of waiting for them.
func TestCalendarDaysAreTheViewersAtUTCMidnightAndAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the hour Berlin is a day ahead", func(t *testing.T) {
		f := newDocsFixture(t)
		e := f.e
		ctx := context.Background()
		e.clock.Set(time.Date(2026, 11, 29, 23, 50, 0, 0, berlin)) // 22:50 UTC, 29 November in both
		id, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: "Ends today",
			Fields: map[string]string{"kind": "server", "warranty_end": "2026-11-29"}}, db.DocActor{Name: "Setup"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.ExpiryCreate(ctx, db.Expiry{OrgID: f.a.ID, Kind: "licence", Name: "M365", ExpiresOn: "2026-12-09"}, nil); err != nil {
			t.Fatal(err)
		}
		f.as(f.viewer)
		e.lang("en")
		look := func() (warranty, left string) {
			t.Helper()
			_, body := e.get("/o/alpha/docs/configurations", nil)
			warranty = strings.Join(strings.Fields(doc(t, body).Find(fmt.Sprintf(`[data-testid="row-%d"]`, id)).Text()), " ")
			_, body = e.get("/o/alpha/expiry?window=30", nil)
			return warranty, strings.Join(rowsOf(t, body), "\n")
		}
		if w, l := look(); !strings.Contains(w, "Warranty ends within 45 days") || !strings.Contains(l, "in 10 days") {
			t.Fatalf("at 23:50 in Berlin: warranty %q, expiries %q", w, l)
		}
		e.clock.Advance(20 * time.Minute) // 00:10 on 30 November in Berlin, 23:10 on the 29th in UTC (within the idle time)
		if w, l := look(); !strings.Contains(w, "Warranty has ended") || !strings.Contains(l, "in 9 days") {
			t.Fatalf("at 00:10 in Berlin (23:10 UTC): warranty %q, expiries %q", w, l)
		}
	})
	t.Run("the day the clocks go forward", func(t *testing.T) {
		f := newDocsFixture(t)
		e := f.e
		e.clock.Set(time.Date(2027, 3, 27, 0, 30, 0, 0, berlin)) // 47½ hours before 29 March begins
		if _, err := e.db.ExpiryCreate(context.Background(), db.Expiry{OrgID: f.a.ID, Kind: "licence", Name: "M365", ExpiresOn: "2027-03-29"}, nil); err != nil {
			t.Fatal(err)
		}
		f.as(f.viewer)
		_, body := e.get("/o/alpha/expiry?window=30", map[string]string{"Accept-Language": "en"})
		if rows := strings.Join(rowsOf(t, body), "\n"); !strings.Contains(rows, "in 2 days") {
			t.Fatalf("two dates ahead across the 23-hour day: %q", rows)
		}
	})
}
