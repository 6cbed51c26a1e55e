package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp/totp"

	"portier/db"
	"portier/docsapp"
	"portier/signin"
)

// Findings of the review of every route and command, as an attacker would try them.

// A stored TOTP seed is never shown, also not from an earlier version in the history: the history's
// reveal shows the current code of that version's seed, like the detail page does.
func TestHistoryRevealShowsTheCodeNotTheSeed(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	id := addM365(t, f)
	f.as(f.tech)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", id)
	_, body := e.get(item+"/history", nil)
	href, ok := doc(t, body).Find(`form[action$="/secret/totp"]`).First().Attr("action")
	if !ok {
		t.Fatalf("the history offers no reveal of the one-time code:\n%.2000s", body)
	}
	resp, body := e.post(href, nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("history reveal: %d", resp.StatusCode)
	}
	flat := strings.ToUpper(strings.Join(strings.Fields(body), ""))
	if strings.Contains(flat, totpSeed) {
		t.Fatal("the history reveal shows the stored TOTP seed")
	}
	code, _ := totp.GenerateCode(totpSeed, e.clock.Now())
	if !strings.Contains(strings.ReplaceAll(body, " ", ""), code) {
		t.Fatalf("the history reveal lacks the current code %s:\n%.500s", code, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("history reveal Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}

// nonceAttr matches the script's CSP nonce, the one part of a page that differs on every request.
var nonceAttr = regexp.MustCompile(` nonce="[^"]*"`)

// "Send the confirmation again" answers like "forgot password": the same status, words and cookies, and
// never sooner than the floor, for an address waiting for confirmation (which costs a token, a mail and an
// audit entry), a confirmed one and one nobody uses. Before, an unknown address answered at once.
func TestConfirmResendLooksTheSameForEveryAddress(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("alt@muster.example", "Anna", "", nil)
	if _, err := e.db.W.Exec(`UPDATE users SET pending_email = 'neu@muster.example' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status  int
		cookies int
		body    string
	}
	answer := func(addr string) result {
		e.newClient()
		e.clock.Advance(2 * time.Minute) // past the mail cooldown
		start := time.Now()
		resp, body := e.post("/confirm/resend", url.Values{"email": {addr}}, map[string]string{"Accept-Language": "en"})
		if d := time.Since(start); d < forgotFloor {
			t.Errorf("%s: answered in %v, before the floor of %v", addr, d, forgotFloor)
		}
		body = nonceAttr.ReplaceAllString(strings.ReplaceAll(body, addr, "ADDR"), "")
		return result{resp.StatusCode, len(resp.Cookies()), body}
	}
	pending := answer("neu@muster.example")
	if len(e.mails()) != 1 {
		t.Fatalf("%d mails for the waiting address, want 1", len(e.mails()))
	}
	for _, addr := range []string{"alt@muster.example", "niemand@muster.example"} {
		got := answer(addr)
		if got.status != pending.status || got.cookies != pending.cookies {
			t.Errorf("%s: status %d, %d cookies; the waiting address got %d, %d", addr, got.status, got.cookies, pending.status, pending.cookies)
		}
		if got.body != pending.body {
			t.Errorf("%s: the page differs from the waiting address's page", addr)
		}
	}
}

// Asking to change one's address to one that belongs to someone else looks, afterwards, like asking for a
// free one: the profile shows the same waiting address with the same cancel button, the person's current
// mailbox gets the same notice, and neither answer comes sooner than the floor. Only the free address
// gets a confirmation link. Before, the profile showed a waiting address only for a free one (and only a
// free one sent the notice): a way to test which addresses have an account.
func TestEmailChangeToTakenAddressLeavesTheSameTraces(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.createUser("bert@muster.example", "Bert", "", nil)
	e.login(u.Email, testPassword)
	try := func(addr string) (page string, toAnna, toAddr int) {
		e.clock.Advance(2 * time.Minute) // past the mail cooldown
		before := len(e.mails())
		start := time.Now()
		resp, _ := e.post("/profile/email", url.Values{"email": {addr}, "current_password": {testPassword}}, profEN)
		if d := time.Since(start); d < forgotFloor {
			t.Errorf("%s: answered in %v, before the floor of %v", addr, d, forgotFloor)
		}
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", addr, resp.StatusCode)
		}
		_, body := e.get("/profile", profEN)
		d := doc(t, body)
		email, _ := d.Find(`[data-testid=profile-email]`).Html()
		page = strings.ReplaceAll(profErr(t, body, "alert-success")+email, addr, "ADDR")
		for _, m := range e.mails()[before:] {
			switch {
			case strings.EqualFold(m.To, u.Email):
				toAnna++
			case strings.EqualFold(m.To, addr):
				toAddr++
			}
		}
		e.post("/profile/email/cancel", nil, nil)
		e.get("/profile", profEN) // the flash
		return page, toAnna, toAddr
	}
	free, freeNotice, freeLink := try("frei@muster.example")
	taken, takenNotice, takenLink := try("bert@muster.example")
	if !strings.Contains(free, "ADDR") {
		t.Fatalf("the profile does not show the waiting free address:\n%s", free)
	}
	if free != taken {
		t.Errorf("the profile differs after a free and a taken address:\nfree:  %s\ntaken: %s", free, taken)
	}
	if freeNotice != takenNotice || freeNotice != 1 {
		t.Errorf("notices to the current address: %d for a free, %d for a taken one, want 1 each", freeNotice, takenNotice)
	}
	if freeLink != 1 || takenLink != 0 {
		t.Errorf("confirmation mails: %d to the free address (want 1), %d to the taken one (want 0)", freeLink, takenLink)
	}
	// Nobody can have the owner of the taken address mailed through "send the confirmation again".
	e.clock.Advance(2 * time.Minute)
	e.post("/profile/email", url.Values{"email": {"bert@muster.example"}, "current_password": {testPassword}}, profEN)
	e.clock.Advance(2 * time.Minute)
	before := len(e.mails())
	e.newClient()
	e.post("/confirm/resend", url.Values{"email": {"bert@muster.example"}}, nil)
	for _, m := range e.mails()[before:] {
		t.Errorf("resend mailed %s: %s", m.To, m.Subject)
	}
}

// Every answer to a signed-in person — each GET route of the router, the reveal, copy, QR, history
// reveal, handbook with secrets and CSV export — is Cache-Control: no-store (only the content-hashed
// static files may be cached), and the request log names routes, never a path, query or secret.
func TestEveryAuthenticatedAnswerIsNoStore(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	pw := itoa64(f.items["passwords"])
	checked := 0
	check := func(method, path string, hdr map[string]string) {
		t.Helper()
		resp, _ := e.do(method, path, strings.NewReader(""), hdr)
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s %s: %d with Cache-Control %q", method, path, resp.StatusCode, cc)
		}
		// And none fails: orgAccess, for one, answers 500 on a route outside orgRoutes, whose session was
		// read without its organisation.
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d", method, path, resp.StatusCode)
		}
		checked++
	}
	for _, r := range e.srv.e.Router().Routes() {
		if r.Method != http.MethodGet || strings.HasPrefix(r.Path, "/static/") {
			continue
		}
		path := routeURL(r.Path, r.Parameters, map[string]string{"slug": "alpha", "id": pw, "uid": itoa64(f.viewer.ID),
			"area": "passwords", "field": "password", "token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
		check(http.MethodGet, path+"?q=query-"+marker, nil)
		check(http.MethodGet, path, map[string]string{"HX-Request": "true"})
	}
	_, body := e.get("/o/alpha/docs/passwords/"+pw+"/history", nil)
	hist, _ := doc(t, body).Find(`form[action*="/versions/"]`).First().Attr("action")
	for _, p := range []string{
		"/o/alpha/docs/passwords/" + pw + "/secret/password",
		"/o/alpha/docs/passwords/" + pw + "/copy/password",
		"/o/alpha/docs/wireless/" + itoa64(f.items["wireless"]) + "/qr",
		hist,
		"/o/alpha/handbook?secrets=1",
	} {
		check(http.MethodPost, p, nil)
		check(http.MethodPost, p, map[string]string{"HX-Request": "true"})
	}
	e.post("/o/alpha/handbook", url.Values{"secrets": {"1"}}, nil)
	check(http.MethodGet, "/o/alpha/export/passwords", nil)
	check(http.MethodGet, "/mfa/recovery/codes.txt", nil)
	if checked < 40 {
		t.Fatalf("only %d answers checked", checked)
	}
	log := e.logBuf.String()
	for _, bad := range []string{marker, "?q=", "AAAAAAAAAAAAAAAA", "/o/alpha"} {
		if strings.Contains(log, bad) {
			t.Errorf("the log contains %q", bad)
		}
	}
}

// offSite reports whether a Location would take a browser to another site: anything but a path on this
// one, read the way browsers read it (backslashes as slashes, tabs and newlines dropped, leading blanks
// and controls stripped).
func offSite(loc string) bool {
	l := strings.TrimLeft(loc, " \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f")
	l = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(l)
	return !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "//")
}

// Every place that takes next= — sign-in (form and page), language and theme switches, the password
// re-confirmation (page and form), the second-factor resets of staff and managers — sends the browser
// only to a path of this site, whatever variant of another site's address it is given.
func TestNextVariantsStayOnSite(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	mgr := e.createUser("mia@muster.example", "Mia", "", map[int64]string{o.ID: "manager"})
	viewer := e.createUser("vera@muster.example", "Vera", "", map[int64]string{o.ID: "viewer"})
	variants := []string{
		"//evil.example/x", "/\\evil.example", "\\\\evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example",
		"/%5Cevil.example", "%5C%5Cevil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
		"https://evil.example/", "http:evil.example", "https:/evil.example", " //evil.example", "\t//evil.example",
		"/\t/evil.example", "/\r\n/evil.example", "/ok\r\nLocation: https://evil.example", "\x00//evil.example",
		"//evil.example@muster.example", "/%09/evil.example", "data:text/html,x", "evil.example",
	}
	locs := func(what string, resp *http.Response, body string) []string {
		out := []string{location(resp), resp.Header.Get("HX-Redirect")}
		doc(t, body).Find(`input[name=next]`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("value", "")) })
		return out
	}
	try := func(what string, resp *http.Response, body string) {
		t.Helper()
		for _, l := range locs(what, resp, body) {
			if l != "" && offSite(l) {
				t.Errorf("%s: sends the browser to %q", what, l)
			}
		}
	}
	for _, v := range variants {
		q := url.QueryEscape(v)
		e.newClient()
		resp, body := e.get("/login?next="+q, nil)
		try("GET /login next="+v, resp, body)
		resp, body = e.post("/lang", url.Values{"lang": {"en"}, "next": {v}}, nil)
		try("POST /lang next="+v, resp, body)
		resp, body = e.post("/theme", url.Values{"theme": {"dark"}, "next": {v}}, nil)
		try("POST /theme next="+v, resp, body)
		resp, body = e.post("/login", url.Values{"email": {mgr.Email}, "password": {testPassword}, "next": {v}}, nil)
		try("POST /login next="+v, resp, body)
		e.passSecondFactor()
		resp, body = e.get("/mfa", nil)
		try("after sign-in next="+v, resp, body)
		resp, body = e.get("/security/confirm?next="+q, nil)
		try("GET /security/confirm next="+v, resp, body)
		resp, body = e.post("/security/confirm", url.Values{"password": {testPassword}, "next": {v}}, nil)
		try("POST /security/confirm next="+v, resp, body)
		resp, body = e.post("/o/muster/people/"+itoa64(viewer.ID)+"/mfa-reset", url.Values{"next": {v}}, nil)
		try("manager's second-factor reset next="+v, resp, body)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("manager's second-factor reset: %d", resp.StatusCode)
		}
		e.enrolTestTOTP(viewer.ID)
		e.newClient()
		e.login(admin.Email, testPassword)
		resp, body = e.post("/staff/users/"+itoa64(viewer.ID)+"/mfa-reset", url.Values{"next": {v}}, nil)
		try("staff second-factor reset next="+v, resp, body)
		resp, body = e.post("/staff/users/"+itoa64(viewer.ID)+"/mfa-reset", url.Values{"next": {v}}, map[string]string{"HX-Request": "true"})
		try("staff second-factor reset (htmx) next="+v, resp, body)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") == "" {
			t.Fatalf("staff second-factor reset (htmx): %d", resp.StatusCode)
		}
		e.enrolTestTOTP(viewer.ID)
	}
}

// An import larger than the upload limit is refused with 413 (with or without a length), one with more
// lines than an import may have is refused whole, and a customer's manager cannot import at all.
func TestOversizedCSVImportIsRefusedWhole(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	count := func() int {
		n, _ := e.db.DocCounts(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true})
		return n["contacts"]
	}
	before := count()
	f.as(f.mgr)
	if resp, _ := e.postFile("/o/alpha/import/contacts", "k.csv", []byte("name\nA\n"), nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("manager's import: %d, want 404", resp.StatusCode)
	}
	f.as(f.tech)
	var many strings.Builder
	many.WriteString("name\n")
	for i := range docsapp.MaxImportRows + 1 {
		fmt.Fprintf(&many, "Kontakt %d\n", i)
	}
	resp, body := e.postFile("/o/alpha/import/contacts", "k.csv", []byte(many.String()), map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "import-problems") {
		t.Fatalf("%d lines: %d", docsapp.MaxImportRows+1, resp.StatusCode)
	}
	huge := []byte("name\n" + strings.Repeat("Kontakt mit einem langen Namen\n", maxUploadBody/30+1000))
	resp, _ = e.postFile("/o/alpha/import/contacts", "k.csv", huge, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d bytes: %d, want 413", len(huge), resp.StatusCode)
	}
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fw, _ := w.CreateFormFile("file", "k.csv")
	fw.Write(huge)
	w.Close()
	// io.MultiReader hides the length: the request goes out chunked.
	resp, _ = e.do(http.MethodPost, "/o/alpha/import/contacts", io.MultiReader(&mp), map[string]string{"Content-Type": w.FormDataContentType()})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d bytes without a length: %d, want 413", len(huge), resp.StatusCode)
	}
	if count() != before {
		t.Fatalf("refused imports stored %d contacts", count()-before)
	}
}

// Numeric ids and slugs of other organisations and other people, tried by every kind of customer and by a
// technician: each answers 404 (the same as something that does not exist) and changes nothing. Paula is
// manager of Alpha and viewer of Beta; Vera is viewer of Alpha; Ida has an open invitation to Alpha only;
// Boris is manager of Beta.
func TestOtherPeoplesIDsAnswerNotFound(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	paula := e.createUser("paula@alpha.example", "Paula", "", map[int64]string{f.a.ID: "manager", f.b.ID: "viewer"})
	boris := e.createUser("boris@beta.example", "Boris", "", map[int64]string{f.b.ID: "manager"})
	ida := e.createUser("ida@beta.example", "Ida", "", map[int64]string{f.b.ID: "viewer"})
	e.invite(ida.Email, "Ida", f.a.ID, "viewer", "en")
	e.invite("neu@beta.example", "Neu", f.b.ID, "viewer", "en")
	var betaInv, idaInv int64
	e.db.R.QueryRow(`SELECT id FROM invitations WHERE email = 'neu@beta.example'`).Scan(&betaInv)
	e.db.R.QueryRow(`SELECT id FROM invitations WHERE user_id = ?`, ida.ID).Scan(&idaInv)
	var borisMethod, adminMethod int64
	e.db.R.QueryRow(`SELECT id FROM mfa_methods WHERE user_id = ?`, boris.ID).Scan(&borisMethod)
	e.db.R.QueryRow(`SELECT id FROM mfa_methods WHERE user_id = ?`, admin.ID).Scan(&adminMethod)
	// Boris has a session whose id (on his own security page) someone might guess.
	e.newClient()
	e.login(boris.Email, testPassword)
	sessions, err := e.db.UserSessions(context.Background(), boris.ID)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("Boris's sessions: %v %v", sessions, err)
	}
	borisSession := signin.SessionID(sessions[0].Hash)

	bItem := itoa64(f.bItem)
	other := func(u int64) string { return itoa64(u) }
	type req struct{ method, path string }
	customer := []req{
		{"GET", "/o/beta/people"}, {"GET", "/o/beta/audit"},
		{"POST", "/o/alpha/invitations/" + other(betaInv) + "/revoke"},
		{"POST", "/o/alpha/invitations/" + other(betaInv) + "/resend"},
		{"POST", "/o/alpha/people/" + other(boris.ID) + "/role"},
		{"POST", "/o/alpha/people/" + other(boris.ID) + "/disable"},
		{"POST", "/o/alpha/people/" + other(boris.ID) + "/mfa-reset"},
		{"POST", "/o/alpha/people/" + other(ida.ID) + "/disable"}, // invited to Alpha, not a member
		{"POST", "/o/alpha/people/" + other(ida.ID) + "/mfa-reset"},
		{"POST", "/o/alpha/people/" + other(admin.ID) + "/mfa-reset"},
		{"POST", "/o/beta/people/" + other(boris.ID) + "/mfa-reset"},
		{"POST", "/staff/users/" + other(boris.ID) + "/mfa-reset"},
		{"GET", "/o/alpha/docs/passwords/" + bItem},
		{"POST", "/o/alpha/docs/passwords/" + bItem + "/secret/password"},
		{"POST", "/o/alpha/docs/passwords/" + bItem + "/copy/password"},
		{"POST", "/o/alpha/docs/passwords/" + itoa64(f.secretID) + "/secret/password"}, // staff-only
		{"POST", "/security/methods/" + other(borisMethod) + "/rename"},
		{"POST", "/security/methods/" + other(borisMethod) + "/remove"},
		{"POST", "/security/methods/" + other(adminMethod) + "/remove"},
		{"GET", "/avatar/" + other(admin.ID)},
		{"GET", "/staff/search?q=Beta"}, {"GET", "/staff/people"}, {"GET", "/staff/audit"},
	}
	viewerOnly := []req{{"GET", "/o/alpha/people"}, {"GET", "/o/alpha/audit"}, {"POST", "/o/alpha/people/invite"},
		{"POST", "/o/alpha/invitations/" + other(idaInv) + "/revoke"}, {"POST", "/o/alpha/people/" + other(paula.ID) + "/mfa-reset"},
		{"GET", "/o/alpha/import/passwords"}, {"GET", "/o/alpha/docs/passwords/" + itoa64(f.items["passwords"]) + "/history"},
		// Beta is not Vera's: none of its pages exist for her.
		{"GET", "/o/beta"}, {"GET", "/o/beta/search?q=Beta"}, {"GET", "/o/beta/docs/passwords"},
		{"GET", "/o/beta/docs/passwords/" + bItem}, {"POST", "/o/beta/docs/passwords/" + bItem + "/secret/password"},
		{"GET", "/o/beta/export/passwords"}, {"GET", "/o/beta/handbook"}, {"POST", "/o/beta/handbook"},
		{"GET", "/avatar/" + other(boris.ID)}}
	technician := []req{
		{"POST", "/staff/users/" + other(admin.ID) + "/mfa-reset"}, {"POST", "/staff/people/" + other(admin.ID) + "/disable"},
		{"GET", "/staff/audit"}, {"GET", "/staff/settings"}, {"POST", "/staff/people/invite"},
		{"POST", "/security/methods/" + other(adminMethod) + "/remove"},
	}
	for _, c := range []struct {
		who  string
		u    *db.User
		reqs []req
	}{
		{"Paula (manager of Alpha, viewer of Beta)", paula, customer},
		{"Vera (viewer of Alpha)", f.viewer, append(append([]req{}, customer...), viewerOnly...)},
		{"the technician", f.tech, technician},
	} {
		e.newClient()
		e.login(c.u.Email, testPassword)
		for _, r := range c.reqs {
			resp, _ := e.do(r.method, r.path, strings.NewReader(url.Values{"name": {"x"}, "role": {"manager"}, "email": {"x@y.example"}}.Encode()),
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %s %s: %d, want 404", c.who, r.method, r.path, resp.StatusCode)
			}
		}
		resp, _ := e.post("/profile/sessions/end", url.Values{"id": {borisSession}}, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: ending Boris's session: %d, want 404", c.who, resp.StatusCode)
		}
	}
	// Nothing changed: every method, session, invitation and membership is still there.
	for q, want := range map[string]int{
		`SELECT count(*) FROM mfa_methods WHERE user_id IN (` + other(boris.ID) + `,` + other(admin.ID) + `,` + other(ida.ID) + `)`: 3,
		`SELECT count(*) FROM mfa_methods WHERE name = 'x'`:                                                                         0,
		`SELECT count(*) FROM user_sessions WHERE user_id = ` + other(boris.ID):                                                     1,
		`SELECT count(*) FROM invitations WHERE revoked_at IS NULL`:                                                                 2,
		`SELECT count(*) FROM users WHERE disabled_at IS NOT NULL`:                                                                  0,
		`SELECT count(*) FROM memberships WHERE user_id = ` + other(ida.ID):                                                         1,
	} {
		if n := countRows(t, e, q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
}

// Only the two upload forms (profile picture, CSV import) take the larger upload limit; any other form
// sent as multipart is held to the 1 MB of a form, so multipart is no way around the form limit.
func TestMultipartElsewhereKeepsTheFormLimit(t *testing.T) {
	e := newTestEnv(t)
	big := strings.Repeat("x", maxFormBody+1000)
	for _, path := range []string{"/login", "/forgot", "/confirm/resend", "/lang"} {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("email", "a@b.example")
		w.WriteField("password", big)
		w.WriteField("lang", "en")
		w.Close()
		size := body.Len()
		resp, _ := e.do(http.MethodPost, path, &body, map[string]string{"Content-Type": w.FormDataContentType()})
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: a %d-byte multipart form answered %d, want 413", path, size, resp.StatusCode)
		}
	}
	// The picture form still takes a file over 1 MB (and refuses it only because it is no picture).
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(u.Email, testPassword)
	resp, _ := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", []byte(big))
	if resp.StatusCode == http.StatusRequestEntityTooLarge || resp.StatusCode >= 500 {
		t.Fatalf("a %d-byte picture upload: %d", len(big), resp.StatusCode)
	}
}

// A failed sign-in looks the same whoever the address belongs to — nobody, an account with another
// password, a locked account, a disabled one, an invitee without a password, staff: the same status, page
// (but the address typed), cookies, and about the same time (every case spends one password check, also
// when there is no hash to check against).
func TestFailedSignInLooksTheSameForEveryAddress(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	locked := e.createUser("lock@muster.example", "Lock", "", map[int64]string{o.ID: "viewer"})
	off := e.createUser("off@muster.example", "Off", "", map[int64]string{o.ID: "viewer"})
	e.createUser("admin@msp.example", "Ada", "admin", nil)
	e.invite("neu@muster.example", "Neu", o.ID, "viewer", "en")
	if _, err := e.db.W.Exec(`UPDATE users SET locked_until = ? WHERE id = ?`, e.clock.Now().Add(time.Hour).Unix(), locked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.W.Exec(`UPDATE users SET disabled_at = 1 WHERE id = ?`, off.ID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status  int
		cookies int
		page    string
		kdfs    uint64 // password key derivations spent on the answer
		dur     time.Duration
	}
	try := func(addr string) result {
		var r result
		e.newClient()
		before := e.tc.Hasher.Derivations()
		start := time.Now()
		resp, body := e.post("/login", url.Values{"email": {addr}, "password": {"Falsch-Passwort#1"}}, map[string]string{"Accept-Language": "en"})
		r.dur = time.Since(start)
		r.kdfs = e.tc.Hasher.Derivations() - before
		r.status, r.cookies = resp.StatusCode, len(resp.Cookies())
		r.page = nonceAttr.ReplaceAllString(strings.ReplaceAll(body, addr, "ADDR"), "")
		return r
	}
	base := try("anna@muster.example")
	if base.status != http.StatusUnauthorized || base.kdfs != 1 {
		t.Fatalf("wrong password: %d, %d key derivations", base.status, base.kdfs)
	}
	// The time is judged by the work done (one password key derivation, the only costly step), not by a
	// stopwatch: on a loaded machine single timings say little. They are logged for whoever looks.
	for _, addr := range []string{"nobody@muster.example", "lock@muster.example", "off@muster.example", "neu@muster.example", "admin@msp.example"} {
		got := try(addr)
		if got.status != base.status || got.cookies != base.cookies || got.page != base.page {
			t.Errorf("%s: %d, %d cookies, same page %v; a wrong password got %d, %d cookies", addr, got.status, got.cookies,
				got.page == base.page, base.status, base.cookies)
		}
		if got.kdfs != base.kdfs {
			t.Errorf("%s: %d key derivations, a wrong password %d: the time tells them apart", addr, got.kdfs, base.kdfs)
		}
		t.Logf("%s: %v (a wrong password: %v)", addr, got.dur, base.dur)
	}
}
