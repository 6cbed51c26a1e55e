package handlers

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
)

// resetMails returns the queued mails to addr that carry a reset link.
func resetMails(e *testEnv, addr string) []db.Mail {
	var out []db.Mail
	for _, m := range e.mails() {
		if strings.EqualFold(m.To, addr) && strings.Contains(m.Text, "/reset/") {
			out = append(out, m)
		}
	}
	return out
}

// forgot asks for a link and returns the answer.
func (e *testEnv) forgot(email string) (*http.Response, string) {
	e.t.Helper()
	return e.post("/forgot", url.Values{"email": {email}}, map[string]string{"Accept-Language": "en"})
}

// lastResetLink is the path of the newest reset link mailed to addr.
func lastResetLink(t *testing.T, e *testEnv, addr string) string {
	t.Helper()
	ms := resetMails(e, addr)
	if len(ms) == 0 {
		t.Fatalf("no reset mail to %s", addr)
	}
	return linkIn(t, ms[len(ms)-1])
}

func TestForgotFormAndSameAnswerForEveryAddress(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	_, body := e.get("/forgot", map[string]string{"Accept-Language": "en"})
	if doc(t, body).Find(`form[action="/forgot"] input[name=email][type=email][autocomplete=username]`).Length() != 1 {
		t.Fatal("forgot form lacks the username field")
	}
	e.createUser("known@kunde.example", "Known", "", map[int64]string{o.ID: "viewer"})
	e.invite("invited@kunde.example", "Invited", o.ID, "viewer", "de") // never set a password
	dis := e.createUser("disabled@kunde.example", "Dis", "", map[int64]string{o.ID: "viewer"})
	if err := e.db.SetDisabled(context.Background(), dis.ID, true); err != nil {
		t.Fatal(err)
	}
	rev := e.invite("revoked@kunde.example", "Rev", o.ID, "viewer", "en")
	inv, _ := e.db.InvitationByToken(context.Background(), hashOf(t, rev))
	if err := e.db.RevokeInvitation(context.Background(), inv.ID); err != nil {
		t.Fatal(err)
	}

	answer := func(addr string) (int, string) {
		start := time.Now()
		resp, body := e.forgot(addr)
		if d := time.Since(start); d < forgotFloor {
			t.Errorf("%s: answered in %v, before the floor", addr, d)
		}
		// The answer repeats the address as it will be used (trimmed, lower case).
		text := strings.ReplaceAll(textOf(t, body, "main"), strings.ToLower(addr), "ADDRESS")
		return resp.StatusCode, text
	}
	wantStatus, wantText := answer("nobody@kunde.example")
	if wantStatus != 200 || !strings.Contains(wantText, en.T("forgot.sent.text", "email", "ADDRESS")) ||
		!strings.Contains(wantText, en.T("forgot.sent.spam")) || !strings.Contains(wantText, en.N("forgot.sent.expiry", 60)) {
		t.Fatalf("answer for an unknown address: %d %q", wantStatus, wantText)
	}
	for _, addr := range []string{"known@kunde.example", "invited@kunde.example", "disabled@kunde.example", "revoked@kunde.example", "KNOWN@kunde.example"} {
		if st, text := answer(addr); st != wantStatus || text != wantText {
			t.Errorf("%s: %d %q\nwant %q", addr, st, text, wantText)
		}
	}
	// Only the known, enabled accounts got mail; the invitee's says "set your password" in German.
	if n := len(resetMails(e, "nobody@kunde.example")); n != 0 {
		t.Errorf("unknown address got %d mails", n)
	}
	if n := len(resetMails(e, "disabled@kunde.example")); n != 0 {
		t.Errorf("disabled account got %d mails", n)
	}
	if n := len(resetMails(e, "revoked@kunde.example")); n != 0 {
		t.Errorf("revoked invitee got %d mails", n)
	}
	known := resetMails(e, "known@kunde.example")
	if len(known) != 1 || known[0].Subject != en.T("mail.reset.subject", "msp", "Muster IT") ||
		!strings.Contains(known[0].HTML, "/reset/") || !strings.Contains(known[0].Text, en.N("mail.reset.expiry", 60)) {
		t.Errorf("known account: %d mails %+v", len(known), known)
	}
	invited := resetMails(e, "invited@kunde.example")
	de := e.srv.i18n.For("de", "")
	if len(invited) != 1 || invited[0].Subject != de.T("mail.setpw.subject", "msp", "Muster IT") {
		t.Errorf("invitee: %+v", invited)
	}
	// A malformed address is refused the same way for everyone, before any lookup.
	resp, body := e.forgot("not an address")
	if resp.StatusCode != 422 || textOf(t, body, `[data-testid="email-error"]`) != en.T("forgot.email.invalid") {
		t.Errorf("malformed: %d", resp.StatusCode)
	}
}

func TestForgotCooldownAndHourlyCap(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@kunde.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	count := func() int { return len(resetMails(e, u.Email)) }
	e.forgot(u.Email)
	first := lastResetLink(t, e, u.Email)
	resp, _ := e.forgot(u.Email)
	if count() != 1 || resp.StatusCode != 200 {
		t.Fatalf("within the cooldown: %d mails, status %d", count(), resp.StatusCode)
	}
	e.clock.Advance(61 * time.Second)
	e.forgot(u.Email)
	if count() != 2 {
		t.Fatalf("after the cooldown: %d mails", count())
	}
	// The newer link revoked the older one: one live link per account.
	resp, body := e.get(first, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 410 || !strings.Contains(textOf(t, body, `[data-testid="link-revoked"]`), en.T("link.reset.revoked")) {
		t.Fatalf("older link: %d", resp.StatusCode)
	}
	for range 5 {
		e.clock.Advance(61 * time.Second)
		e.forgot(u.Email)
	}
	if count() != db.MailPerHourMax {
		t.Fatalf("hourly cap: %d mails", count())
	}
	e.clock.Advance(time.Hour)
	e.forgot(u.Email)
	if count() != db.MailPerHourMax+1 {
		t.Fatalf("after an hour: %d mails", count())
	}
}

func TestForgotIsThrottledPerClientAddress(t *testing.T) {
	e := newTestEnv(t)
	for i := range db.IPMaxFailures {
		e.post("/login", url.Values{"email": {"x" + string(rune('a'+i%26)) + "@example.com"}, "password": {"x"}}, nil)
	}
	resp, _ := e.forgot("anna@kunde.example")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("forgot from a blocked address: %d", resp.StatusCode)
	}
}

func TestResetLinkProblemsExplainWhatToDo(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	hdr := map[string]string{"Accept-Language": "en"}
	check := func(name, path, state string) {
		t.Helper()
		resp, body := e.get(path, hdr)
		sel := `[data-testid="link-` + state + `"]`
		if resp.StatusCode != 410 || textOf(t, body, sel+" h1") != en.T("link."+state+".title") ||
			!strings.Contains(textOf(t, body, sel), en.T("link.reset."+state)) ||
			doc(t, body).Find(`[data-testid="message-link"][href="/forgot"]`).Length() != 1 {
			t.Errorf("%s: %d\n%.500s", name, resp.StatusCode, textOf(t, body, "main"))
		}
		if resp, _ := e.post(path, pwValues("", "Neu-Passwort#77", "Neu-Passwort#77", false), hdr); resp.StatusCode != 410 {
			t.Errorf("%s: POST %d", name, resp.StatusCode)
		}
	}
	a := e.createUser("a@kunde.example", "A", "", map[int64]string{o.ID: "viewer"})
	e.forgot(a.Email)
	used := lastResetLink(t, e, a.Email)
	if resp, _ := e.post(used, pwValues("", goodPassword, goodPassword, false), nil); resp.StatusCode != 200 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	check("used", used, "used")

	b := e.createUser("b@kunde.example", "B", "", map[int64]string{o.ID: "viewer"})
	e.forgot(b.Email)
	expired := lastResetLink(t, e, b.Email)
	e.clock.Advance(61 * time.Minute)
	check("expired", expired, "expired")

	c := e.createUser("c@kunde.example", "C", "", map[int64]string{o.ID: "viewer"})
	e.forgot(c.Email)
	revoked := lastResetLink(t, e, c.Email)
	e.clock.Advance(61 * time.Second)
	e.forgot(c.Email)
	check("revoked by a newer link", revoked, "revoked")

	raw, _ := auth.NewToken()
	check("unknown", "/reset/"+raw, "unknown")
	check("malformed", "/reset/x", "unknown")
}

func TestResetEndsEverySessionAndDoesNotSignIn(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@kunde.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	// Browser A signs in somewhere else.
	e.login(u.Email, testPassword)
	jarA := e.client.Jar
	if resp, _ := e.get("/orgs", nil); resp.StatusCode != 200 {
		t.Fatalf("A not signed in: %d", resp.StatusCode)
	}
	// Browser B is signed in too, and uses the link itself.
	e.newClient()
	e.login(u.Email, testPassword)
	jarB := e.client.Jar
	e.forgot(u.Email)
	link := lastResetLink(t, e, u.Email)
	_, body := e.get(link, map[string]string{"Accept-Language": "en"})
	d := doc(t, body)
	if d.Find(`[data-testid="setpw-reset"]`).Length() != 1 || d.Find(`input#name`).Length() != 0 || d.Find(`input[name=terms]`).Length() != 0 {
		t.Fatalf("reset form for someone with a password and accepted terms:\n%.800s", body)
	}
	if textOf(t, body, "h1") != en.T("setpw.reset.title") {
		t.Errorf("title %q", textOf(t, body, "h1"))
	}
	const newPassword = "Neues-Fenster#4711"
	// Let a minute pass, so that this request refreshes the session's last-seen time: saving that must not
	// bring back the session the reset ends.
	e.clock.Advance(2 * time.Minute)
	resp, body := e.post(link, pwValues("", newPassword, newPassword, false), map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid="reset-done"] [data-testid="message-link"][href="/login"]`).Length() != 1 {
		t.Fatalf("reset: %d\n%.500s", resp.StatusCode, body)
	}
	for name, jar := range map[string]http.CookieJar{"A": jarA, "B": jarB} {
		e.client.Jar = jar
		if resp, _ := e.get("/orgs", nil); !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("browser %s still signed in after the reset: %d", name, resp.StatusCode)
		}
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID).Scan(&n)
	if n != 0 {
		t.Errorf("%d sessions listed after the reset", n)
	}
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil); resp.StatusCode != 401 {
		t.Errorf("old password still works: %d", resp.StatusCode)
	}
	e.login(u.Email, newPassword)
	// A notice went out, without a link to use or anything secret.
	var notice *db.Mail
	for _, m := range e.mails() {
		if m.To == u.Email && m.Subject == en.T("mail.pwchanged.subject", "msp", "Muster IT") {
			notice = &m
		}
	}
	if notice == nil {
		t.Fatal("no notice that the password changed")
	}
	for _, bad := range []string{"/reset/", "/invite/", newPassword, testPassword} {
		if strings.Contains(notice.Text+notice.HTML, bad) {
			t.Errorf("notice contains %q", bad)
		}
	}
	if !strings.Contains(notice.Text, "support@muster-it.example") || !strings.Contains(notice.Text, e.URL("/forgot")) {
		t.Errorf("notice does not say what to do:\n%s", notice.Text)
	}
	var audits int
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'password.reset' AND actor_id = ?`, u.ID).Scan(&audits)
	if audits != 1 {
		t.Errorf("%d password.reset audit entries", audits)
	}
}

func TestResetRefusesUnmetRulesWithTheSameForm(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@kunde.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.forgot(u.Email)
	link := lastResetLink(t, e, u.Email)
	for pw, rule := range map[string]string{"Wolkenkratzer7": auth.SpecialKey, "Anna#2026x": auth.PersonalKey, "Welcome1!": auth.CommonKey} {
		resp, body := e.post(link, pwValues("", pw, pw, false), map[string]string{"Accept-Language": "en"})
		if resp.StatusCode != 422 || textOf(t, body, `[data-testid="password-unmet"] li[data-rule="`+rule+`"]`) != ruleText(e, rule) {
			t.Errorf("%s: %d, unmet %q", pw, resp.StatusCode, textOf(t, body, `[data-testid="password-unmet"]`))
		}
	}
	// The link survived the refusals.
	if resp, _ := e.post(link, pwValues("", goodPassword, goodPassword, false), nil); resp.StatusCode != 200 {
		t.Fatalf("good password: %d", resp.StatusCode)
	}
}

// The route of seeds 000 and 004: invited, ignores the mail, uses "forgot password", sets the password there.
func TestInviteeSetsFirstPasswordThroughForgot(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.invite("ben@kunde.example", "Ben", o.ID, "viewer", "en")
	e.forgot("ben@kunde.example")
	link := lastResetLink(t, e, "ben@kunde.example")
	resp, body := e.get(link, nil)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`input#name[value="Ben"]`).Length() != 1 || textOf(t, body, "h1") != en.T("setpw.title") {
		t.Fatalf("first password form: %d\n%.600s", resp.StatusCode, body)
	}
	if d.Find(`input[name=terms]`).Length() != 1 || d.Find(`input[name=terms][required]`).Length() != 0 {
		t.Error("terms should be offered, not required, on the reset form")
	}
	resp, _ = e.post(link, pwValues("Ben Beispiel", goodPassword, goodPassword, false), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("set: %d", resp.StatusCode)
	}
	u := userByEmail(t, e, "ben@kunde.example")
	if u.Name != "Ben Beispiel" || !u.EmailConfirmed || u.PasswordHash == "" || u.TermsVersion != 0 {
		t.Fatalf("after setting: %+v", u)
	}
	invs, _ := e.db.Invitations(context.Background(), o.ID)
	if invs[0].Status != db.InviteAccepted {
		t.Fatalf("invitation %s after the reset", invs[0].Status)
	}
	if role, err := e.db.MemberRole(context.Background(), u.ID, o.ID); err != nil || role != "viewer" {
		t.Fatalf("membership after the first password: %q %v", role, err)
	}
	// No notice for a first password: nothing changed for the person.
	for _, m := range e.mails() {
		if m.To == "ben@kunde.example" && m.Subject == en.T("mail.pwchanged.subject", "msp", "Muster IT") {
			t.Error("notice sent for a first password")
		}
	}
	// Not signed in by the link; the sign-in asks for the terms that were not ticked.
	if resp, _ := e.get("/orgs", nil); !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatal("the reset link signed in")
	}
	resp, _ = e.post("/login", url.Values{"email": {"ben@kunde.example"}, "password": {goodPassword}}, nil)
	if resp.Header.Get("Location") != "/terms" {
		t.Fatalf("after sign-in: %q", resp.Header.Get("Location"))
	}
}

func TestResetWithTermsTicked(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.invite("ben@kunde.example", "Ben", o.ID, "viewer", "en")
	e.forgot("ben@kunde.example")
	link := lastResetLink(t, e, "ben@kunde.example")
	if resp, _ := e.post(link, pwValues("Ben", goodPassword, goodPassword, true), nil); resp.StatusCode != 200 {
		t.Fatalf("set: %d", resp.StatusCode)
	}
	resp, _ := e.post("/login", url.Values{"email": {"ben@kunde.example"}, "password": {goodPassword}}, nil)
	if loc := resp.Header.Get("Location"); !pastFirstLoginSteps(loc) {
		t.Fatalf("after sign-in: %q", loc)
	}
}

// Nothing in the database file, its WAL, the log or the mails contains a password, and raw tokens exist only
// in the one mail that carries each.
func TestNoPasswordOrTokenInDatabaseLogOrMail(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	const marker1 = "Markierung-Qx7#93127"
	const marker2 = "Zweite-Markierung#55821"
	invitePath := e.invite("anna@kunde.example", "Anna", o.ID, "viewer", "en")
	inviteToken := invitePath[strings.LastIndexByte(invitePath, '/')+1:]
	// The live check sees the password as it is typed.
	e.post("/password/check", url.Values{"password": {marker1}, "password2": {marker1}}, map[string]string{"HX-Request": "true"})
	// A refused attempt, then the real form.
	e.post(invitePath, pwValues("Anna", marker1, marker1+"x", true), nil)
	if resp, _ := e.post(invitePath, pwValues("Anna", marker1, marker1, true), nil); resp.StatusCode != 303 {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	e.newClient()
	e.forgot("anna@kunde.example")
	resetPath := lastResetLink(t, e, "anna@kunde.example")
	resetToken := resetPath[strings.LastIndexByte(resetPath, '/')+1:]
	if resp, _ := e.post(resetPath, pwValues("", marker2, marker2, false), nil); resp.StatusCode != 200 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	e.login("anna@kunde.example", marker2)

	secrets := map[string]string{"first password": marker1, "second password": marker2, "invitation token": inviteToken, "reset token": resetToken}
	files := map[string]string{}
	for _, p := range []string{e.db.Path, e.db.Path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files[p] = string(b)
	}
	if len(files[e.db.Path]+files[e.db.Path+"-wal"]) < 10000 {
		t.Fatal("database files look empty: the test would prove nothing")
	}
	files["server log"] = e.logBuf.String()
	if !strings.Contains(files["server log"], "route=/invite/:token") {
		t.Fatal("the log did not record the requests: the test would prove nothing")
	}
	for where, content := range files {
		for what, secret := range secrets {
			if strings.Contains(content, secret) {
				t.Errorf("%s contains the %s", where, what)
			}
		}
	}
	carriers := map[string]int{}
	ms := e.mails()
	if len(ms) < 3 {
		t.Fatalf("only %d mails queued", len(ms))
	}
	for _, m := range ms {
		all := m.Subject + m.Text + m.HTML
		for what, secret := range secrets {
			if strings.Contains(all, secret) {
				carriers[what]++
			}
		}
	}
	if carriers["first password"]+carriers["second password"] != 0 {
		t.Errorf("a mail contains a password: %v", carriers)
	}
	if carriers["invitation token"] != 1 || carriers["reset token"] != 1 {
		t.Errorf("each token should be in exactly the one mail that delivers it: %v", carriers)
	}
}
