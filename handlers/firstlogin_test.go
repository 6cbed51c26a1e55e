package handlers

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/access"
	"portier/accounts"
	"portier/auth"
	"portier/db"
	"portier/i18n"
)

// A password that meets every rule of the default policy for the people of these tests.
const goodPassword = "Wolkenkratzer7#"

var en = func() *i18n.Localizer {
	b, err := i18n.Load()
	if err != nil {
		panic(err)
	}
	return b.For("en", "")
}()

// invite invites a person through the same code as the web and the command line and returns the link's path.
func (e *testEnv) invite(email, name string, orgID int64, role, lang string) string {
	e.t.Helper()
	sent, err := e.srv.accounts.Invite(context.Background(), accounts.InviteRequest{Email: email, Name: name, Lang: lang, OrgID: orgID, Role: role,
		By: access.Operator()})
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := url.Parse(sent.Link)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Path
}

// pwValues is a filled-in set-password form.
func pwValues(name, pw, repeat string, terms bool) url.Values {
	v := url.Values{"name": {name}, "password": {pw}, "password2": {repeat}}
	if terms {
		v.Set("terms", "1")
	}
	return v
}

// pastFirstLoginSteps: the pipeline sent the person beyond password, address and terms — to "your account
// is set up", or to the second factor once that step exists.
func pastFirstLoginSteps(loc string) bool {
	return loc == "/welcome/done" || loc == "/mfa/setup"
}

// textOf is the visible text of the first element matching sel, whitespace collapsed.
func textOf(t *testing.T, body, sel string) string {
	t.Helper()
	return strings.Join(strings.Fields(doc(t, body).Find(sel).First().Text()), " ")
}

func userByEmail(t *testing.T, e *testEnv, email string) *db.User {
	t.Helper()
	u, err := e.db.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestInviteFormShowsEverythingOnOneScreen(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	path := e.invite("anna.beispiel@kunde.example", "Anna Beispiel", o.ID, "viewer", "en")
	// No Accept-Language, no cookie: the page speaks the language staff chose for the person.
	resp, body := e.get(path, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("invite page: %d", resp.StatusCode)
	}
	d := doc(t, body)
	if lang, _ := d.Find("html").Attr("lang"); lang != "en" {
		t.Errorf("page language %q, want the invitee's en", lang)
	}
	if v, _ := d.Find(`input#name`).Attr("value"); v != "Anna Beispiel" {
		t.Errorf("name not pre-filled: %q", v)
	}
	if d.Find(`input#name[readonly], input#name[disabled]`).Length() != 0 {
		t.Error("name is not editable")
	}
	if got := textOf(t, body, `[data-testid="setpw-email"]`); got != "anna.beispiel@kunde.example" {
		t.Errorf("e-mail shown: %q", got)
	}
	if d.Find(`input[name="email"][autocomplete="username"][hidden][value="anna.beispiel@kunde.example"]`).Length() != 1 {
		t.Error("no hidden username field for password managers")
	}
	for _, id := range []string{"password", "password2"} {
		in := d.Find(`input#` + id + `[type="password"][autocomplete="new-password"]`)
		if in.Length() != 1 {
			t.Fatalf("%s: no new-password field", id)
		}
		for attr, want := range map[string]string{"hx-post": "/password/check", "hx-trigger": "input changed delay:300ms", "hx-target": "#password-rules"} {
			if got, _ := in.Attr(attr); got != want {
				t.Errorf("%s: %s=%q, want %q", id, attr, got, want)
			}
		}
		if _, ok := in.Attr("hx-on"); ok {
			t.Errorf("%s uses hx-on", id)
		}
		if d.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("%s has no label", id)
		}
	}
	// Every rule of the policy is listed, none ticked yet.
	for _, r := range e.srv.cfg.PasswordPolicy.Rules() {
		li := d.Find(`#password-rules li[data-rule="` + r.Key + `"]`)
		if li.Length() != 1 || li.AttrOr("data-met", "") != "false" {
			t.Errorf("rule %s not listed as open", r.Key)
		}
	}
	// The terms are on the same screen: text and checkbox.
	terms, _ := e.db.CurrentTerms(context.Background())
	if !strings.Contains(textOf(t, body, `[data-testid="setpw-terms-text"]`), strings.Fields(terms.TextEN)[0]) {
		t.Error("terms text not on the page")
	}
	if d.Find(`input[type="checkbox"][name="terms"][value="`+strconv.Itoa(terms.Version)+`"][required]`).Length() != 1 ||
		!strings.Contains(textOf(t, body, `label[for="terms"]`), en.T("terms.accept")) {
		t.Error("no required terms checkbox")
	}
	if !strings.Contains(textOf(t, body, `[data-testid="setpw-lead"]`), "Muster GmbH") {
		t.Errorf("lead does not name the organisation: %q", textOf(t, body, `[data-testid="setpw-lead"]`))
	}
	// The language switch (cookie) wins over the invitee's language.
	_, body = e.get(path, map[string]string{"Cookie": "portier_lang=de"})
	if lang, _ := doc(t, body).Find("html").Attr("lang"); lang != "de" {
		t.Errorf("cookie language ignored: %q", lang)
	}
}

func TestInviteAcceptSetsPasswordAndSignsIn(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	path := e.invite("anna.beispiel@kunde.example", "Anna B.", o.ID, "manager", "de")
	resp, body := e.post(path, pwValues("Anna Beispiel", goodPassword, goodPassword, true), map[string]string{"Cookie": "portier_lang=en"})
	if resp.StatusCode != 303 {
		t.Fatalf("accept: %d\n%.800s", resp.StatusCode, body)
	}
	// The pipeline's next step: password, address and terms are done.
	loc := resp.Header.Get("Location")
	if !pastFirstLoginSteps(loc) {
		t.Fatalf("after accepting: %q", loc)
	}
	resp, _ = e.get(loc, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("not signed in after accepting: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u := userByEmail(t, e, "anna.beispiel@kunde.example")
	if u.Name != "Anna Beispiel" || u.PasswordHash == "" || !u.EmailConfirmed || u.TermsVersion != 1 || u.Lang != "en" {
		t.Fatalf("user after accepting: %+v", u)
	}
	if ok, _, _ := e.tc.Hasher.Verify(context.Background(), u.PasswordHash, goodPassword); !ok {
		t.Fatal("stored hash does not verify")
	}
	var ip string
	if err := e.db.R.QueryRow(`SELECT ip FROM terms_acceptances WHERE user_id = ?`, u.ID).Scan(&ip); err != nil || ip == "" {
		t.Fatalf("terms acceptance: %v %q", err, ip)
	}
	invs, _ := e.db.Invitations(context.Background(), o.ID)
	if len(invs) != 1 || invs[0].Status != db.InviteAccepted {
		t.Fatalf("invitation not accepted: %+v", invs)
	}
	for _, action := range []string{"invite.accept", "password.set"} {
		var n int
		e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = ? AND actor_id = ?`, action, u.ID).Scan(&n)
		if n != 1 {
			t.Errorf("audit %s: %d entries", action, n)
		}
	}
	// The link works once.
	e.newClient()
	resp, body = e.get(path, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 410 || !strings.Contains(textOf(t, body, `[data-testid="link-used"]`), en.T("link.invite.used")) {
		t.Fatalf("second use: %d\n%.500s", resp.StatusCode, body)
	}
	resp, _ = e.post(path, pwValues("X", goodPassword, goodPassword, true), nil)
	if resp.StatusCode != 410 {
		t.Fatalf("second POST: %d", resp.StatusCode)
	}
	// And the new password signs in.
	e.login("anna.beispiel@kunde.example", goodPassword)
}

func TestInviteLinkProblemsExplainWhatToDo(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	hdr := map[string]string{"Accept-Language": "en"}
	check := func(name, path, state, textKey string) {
		t.Helper()
		resp, body := e.get(path, hdr)
		sel := `[data-testid="link-` + state + `"]`
		if resp.StatusCode != 410 || textOf(t, body, sel+" h1") != en.T("link."+state+".title") ||
			!strings.Contains(textOf(t, body, sel), en.T(textKey)) {
			t.Errorf("%s: %d, page:\n%.600s", name, resp.StatusCode, textOf(t, body, "main"))
		}
		// Each explains what to do: a way on and the support contact.
		d := doc(t, body)
		if d.Find(`[data-testid="message-link"][href="/forgot"]`).Length() != 1 || d.Find(`[data-testid="support-contact"]`).Length() != 1 {
			t.Errorf("%s: no way on", name)
		}
		// Posting to it changes nothing either.
		if resp, _ := e.post(path, pwValues("X", goodPassword, goodPassword, true), hdr); resp.StatusCode != 410 {
			t.Errorf("%s: POST %d", name, resp.StatusCode)
		}
	}

	// Expired: 7 days by default.
	expired := e.invite("a@kunde.example", "A", o.ID, "viewer", "en")
	e.clock.Advance(7*24*time.Hour + time.Second)
	check("expired", expired, "expired", "link.invite.expired")

	// Revoked by staff.
	revoked := e.invite("b@kunde.example", "B", o.ID, "viewer", "en")
	inv, err := e.db.InvitationByToken(context.Background(), hashOf(t, revoked))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.RevokeInvitation(context.Background(), inv.ID); err != nil {
		t.Fatal(err)
	}
	check("revoked", revoked, "revoked", "link.invite.revoked")

	// Re-sent: the old link dies, the new one works.
	old := e.invite("c@kunde.example", "C", o.ID, "viewer", "en")
	inv, _ = e.db.InvitationByToken(context.Background(), hashOf(t, old))
	sent, err := e.srv.accounts.Reissue(context.Background(), inv.ID, access.Operator(), db.AuditEntry{})
	link := sent.Link
	if err != nil {
		t.Fatal(err)
	}
	check("replaced", old, "revoked", "link.invite.revoked")
	u, _ := url.Parse(link)
	if resp, _ := e.get(u.Path, hdr); resp.StatusCode != 200 {
		t.Fatalf("re-sent link: %d", resp.StatusCode)
	}
	// A second invitation to the same place replaces the first one too.
	first := e.invite("d@kunde.example", "D", o.ID, "viewer", "en")
	e.invite("d@kunde.example", "D", o.ID, "viewer", "en")
	check("invited again", first, "revoked", "link.invite.revoked")

	// Unknown and malformed tokens.
	raw, _ := auth.NewToken()
	check("unknown", "/invite/"+raw, "unknown", "link.invite.unknown")
	check("malformed", "/invite/not-a-token", "unknown", "link.invite.unknown")
}

// hashOf is the stored hash of a link path's token.
func hashOf(t *testing.T, path string) []byte {
	t.Helper()
	h, err := auth.HashToken(path[strings.LastIndexByte(path, '/')+1:])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestInviteRefusesEachUnmetRuleByName(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	path := e.invite("anna.beispiel@kunde.example", "Anna Beispiel", o.ID, "viewer", "en")
	cases := []struct{ pw, repeat, rule string }{
		{"Wk7#q", "", auth.LengthKey},
		{"wolkenkratzer7#", "", auth.UpperKey},
		{"Wolkenkratzer#", "", auth.DigitKey},
		{"Wolkenkratzer7", "", auth.SpecialKey},
		{"P@ssw0rd", "", auth.CommonKey},
		{"Passw0rd!", "", auth.CommonKey},
		{"Welcome1!", "", auth.CommonKey},
		{"Beispiel2026!", "", auth.PersonalKey},          // the name
		{"Anna.Beispiel1!", "", auth.PersonalKey},        // the e-mail address
		{"Muster#2026", "", auth.PersonalKey},            // the organisation
		{"Muster-IT#2026", "", auth.PersonalKey},         // the MSP
		{strings.Repeat("Ab1#", 257), "", auth.MaxKey},   // 1028 bytes
		{goodPassword, "Wolkenkratzer7!", auth.MatchKey}, // the repetition differs
	}
	for _, c := range cases {
		repeat := c.repeat
		if repeat == "" {
			repeat = c.pw
		}
		resp, body := e.post(path, pwValues("Anna Beispiel", c.pw, repeat, true), map[string]string{"Accept-Language": "en"})
		if resp.StatusCode != 422 {
			t.Errorf("%.20q: status %d", c.pw, resp.StatusCode)
			continue
		}
		d := doc(t, body)
		li := d.Find(`[data-testid="password-unmet"] li[data-rule="` + c.rule + `"]`)
		want := ruleText(e, c.rule)
		if li.Length() != 1 || strings.TrimSpace(li.Text()) != want {
			t.Errorf("%.20q: rule %s not named (%q); unmet: %q", c.pw, c.rule, want, textOf(t, body, `[data-testid="password-unmet"]`))
		}
		if d.Find(`#password-rules li[data-rule="`+c.rule+`"][data-met="false"]`).Length() != 1 {
			t.Errorf("%.20q: rule list does not show %s as unmet", c.pw, c.rule)
		}
		// The password is never sent back.
		if strings.Contains(body, c.pw) {
			t.Errorf("%.20q: password echoed in the page", c.pw)
		}
		if d.Find(`input#name`).AttrOr("value", "") != "Anna Beispiel" || d.Find(`input[name=terms][checked]`).Length() != 1 {
			t.Errorf("%.20q: other fields not kept", c.pw)
		}
	}
	// Name and terms are checked too.
	for name, c := range map[string]struct {
		v   url.Values
		sel string
		key string
	}{
		"no name":       {pwValues("  ", goodPassword, goodPassword, true), `[data-testid="name-error"]`, "setpw.name.required"},
		"long name":     {pwValues(strings.Repeat("ä", 101), goodPassword, goodPassword, true), `[data-testid="name-error"]`, "setpw.name.too_long"},
		"control":       {pwValues("Anna\x07Beispiel", goodPassword, goodPassword, true), `[data-testid="name-error"]`, "setpw.name.invalid"},
		"bidi override": {pwValues("Anna \u202Eleipsieb", goodPassword, goodPassword, true), `[data-testid="name-error"]`, "setpw.name.invalid"},
		"bad utf-8":     {pwValues("Anna\xffB", goodPassword, goodPassword, true), `[data-testid="name-error"]`, "setpw.name.invalid"},
		"no terms":      {pwValues("Anna Beispiel", goodPassword, goodPassword, false), `[data-testid="terms-error"]`, "setpw.terms.required"},
	} {
		resp, body := e.post(path, c.v, map[string]string{"Accept-Language": "en"})
		if resp.StatusCode != 422 || textOf(t, body, c.sel) != en.T(c.key) {
			t.Errorf("%s: %d %q", name, resp.StatusCode, textOf(t, body, c.sel))
		}
	}
	// Nothing was saved; the link still works.
	if u := userByEmail(t, e, "anna.beispiel@kunde.example"); u.PasswordHash != "" {
		t.Fatal("a refused password was stored")
	}
	if resp, _ := e.post(path, pwValues("Anna Beispiel", goodPassword, goodPassword, true), nil); resp.StatusCode != 303 {
		t.Fatalf("good password after refusals: %d", resp.StatusCode)
	}
}

func ruleText(e *testEnv, key string) string {
	for _, r := range e.srv.cfg.PasswordPolicy.Rules() {
		if r.Key == key {
			var args []any
			for k, v := range r.Args {
				args = append(args, k, v)
			}
			return en.T(key, args...)
		}
	}
	return en.T(key)
}

func TestNewTermsVersionWhileTheFormWasOpen(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	path := e.invite("anna@kunde.example", "Anna", o.ID, "viewer", "en")
	if _, err := e.db.PublishTerms(context.Background(), "Neu", "Brand new terms", 0); err != nil {
		t.Fatal(err)
	}
	resp, body := e.post(path, pwValues("Anna", goodPassword, goodPassword, true), map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 422 || textOf(t, body, `[data-testid="terms-error"]`) != en.T("setpw.terms.changed") ||
		!strings.Contains(body, "Brand new terms") {
		t.Fatalf("old terms version accepted: %d", resp.StatusCode)
	}
	v := pwValues("Anna", goodPassword, goodPassword, false)
	v.Set("terms", "2")
	if resp, _ := e.post(path, v, nil); resp.StatusCode != 303 {
		t.Fatalf("new version: %d", resp.StatusCode)
	}
	if u := userByEmail(t, e, "anna@kunde.example"); u.TermsVersion != 2 {
		t.Fatalf("terms version %d", u.TermsVersion)
	}
}

func TestInviteOfSomeoneWithAPassword(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Muster GmbH", "muster")
	b := e.createOrg("Beispiel AG", "beispiel")
	u := e.createUser("anna@kunde.example", "Anna", "", map[int64]string{a.ID: "viewer"})
	path := e.invite(u.Email, "", b.ID, "manager", "en")
	resp, body := e.get(path, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid="invite-existing"]`).Length() != 1 ||
		doc(t, body).Find(`input[type=password]`).Length() != 0 {
		t.Fatalf("existing account: %d\n%.500s", resp.StatusCode, body)
	}
	if _, err := e.db.MemberRole(context.Background(), u.ID, b.ID); err == nil {
		t.Fatal("a member before accepting")
	}
	resp, _ = e.post(path, url.Values{"existing": {"1"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Fatalf("accept: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if role, err := e.db.MemberRole(context.Background(), u.ID, b.ID); err != nil || role != "manager" {
		t.Fatalf("accepted, membership %q %v", role, err)
	}
	// Not signed in by the link; the password is unchanged.
	if resp, _ := e.get("/orgs", nil); !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatal("the link signed in someone who has a password")
	}
	_, body = e.get("/login", map[string]string{"Accept-Language": "en"})
	if !strings.Contains(body, en.T("invite.existing.done")) {
		t.Error("no notice on the sign-in page")
	}
	e.login(u.Email, testPassword)
	if resp, _ := e.get(path, nil); resp.StatusCode != 410 {
		t.Fatalf("second use: %d", resp.StatusCode)
	}

	// Signed in already: the link accepts and the person goes on, to the new organisation among theirs.
	c := e.createOrg("Gamma OHG", "gamma")
	path = e.invite(u.Email, "", c.ID, "viewer", "en")
	resp, _ = e.post(path, url.Values{"existing": {"1"}}, nil)
	if resp.StatusCode != 303 || strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("accept while signed in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.get("/o/gamma", nil); resp.StatusCode != 200 {
		t.Fatalf("the new organisation after accepting: %d", resp.StatusCode)
	}
}

func TestPasswordCheckFragment(t *testing.T) {
	e := newTestEnv(t)
	htmx := map[string]string{"HX-Request": "true", "Accept-Language": "en"}
	form := url.Values{"password": {"wolkenkratzer"}, "password2": {""}, "name": {"Anna Beispiel"}, "email": {"anna@kunde.example"}}
	resp, body := e.post("/password/check", form, htmx)
	if resp.StatusCode != 200 || strings.Contains(body, "<html") {
		t.Fatalf("check: %d\n%.300s", resp.StatusCode, body)
	}
	d := doc(t, body)
	met := func(key string) string {
		return d.Find(`li[data-rule="`+key+`"]`).AttrOr("data-met", "missing")
	}
	for key, want := range map[string]string{auth.LengthKey: "true", auth.UpperKey: "false", auth.DigitKey: "false",
		auth.SpecialKey: "false", auth.CommonKey: "true", auth.PersonalKey: "true", auth.MatchKey: "false"} {
		if got := met(key); got != want {
			t.Errorf("%s: met=%s, want %s", key, got, want)
		}
	}
	if !strings.Contains(textOf(t, body, `li[data-rule="password.rule.upper"]`), en.T("password.rule.upper")) {
		t.Error("rule text missing")
	}
	if d.Find(`[data-testid="password-strength"]`).Length() != 1 {
		t.Error("no strength hint")
	}
	// Personal data posted with the form counts, and the organisations too.
	form = url.Values{"password": {"Muster#2026"}, "password2": {"Muster#2026"}, "org": {"Muster GmbH"}}
	_, body = e.post("/password/check", form, htmx)
	if doc(t, body).Find(`li[data-rule="password.rule.personal"]`).AttrOr("data-met", "") != "false" {
		t.Error("organisation not used for the personal rule")
	}
	form = url.Values{"password": {goodPassword}, "password2": {goodPassword}}
	_, body = e.post("/password/check", form, htmx)
	d = doc(t, body)
	if n := d.Find(`li[data-met="false"]`).Length(); n != 0 || d.Find(`li[data-met="true"]`).Length() != len(e.srv.cfg.PasswordPolicy.Rules())+1 {
		t.Errorf("good password: %d rules unmet", n)
	}
	if s := d.Find(`[data-testid="password-strength"]`).AttrOr("data-strength", ""); s != "3" {
		t.Errorf("strength %q", s)
	}
	if strings.Contains(e.logBuf.String(), "olkenkratzer") {
		t.Fatal("the password reached the log")
	}
	// No session was needed, and none was created.
	if len(e.client.Jar.Cookies(mustURL(t, e.URL("/")))) != 0 {
		t.Error("the check created a session")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Link pages speak the language staff chose for the person, not the browser's, unless the person used the
// language switch; accepting keeps that language.
func TestLinkPagesSpeakThePersonsLanguage(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	browserEN := map[string]string{"Accept-Language": "en-US,en;q=0.9"}
	path := e.invite("anna@kunde.example", "Anna", o.ID, "viewer", "de")
	if _, body := e.get(path, browserEN); doc(t, body).Find("html").AttrOr("lang", "") != "de" {
		t.Fatal("invitation page not in the invitee's language")
	}
	resp, _ := e.post(path, pwValues("Anna", goodPassword, goodPassword, true), browserEN)
	if resp.StatusCode != 303 {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	if u := userByEmail(t, e, "anna@kunde.example"); u.Lang != "de" {
		t.Fatalf("language after accepting: %q", u.Lang)
	}
	_, body := e.get(resp.Header.Get("Location"), browserEN)
	if doc(t, body).Find("html").AttrOr("lang", "") != "de" {
		t.Error("signed-in page not in the person's language")
	}

	e.newClient()
	u := e.createUser("ben@kunde.example", "Ben", "", map[int64]string{o.ID: "viewer"})
	if err := e.db.SetUserLang(context.Background(), u.ID, "de"); err != nil {
		t.Fatal(err)
	}
	e.forgot(u.Email)
	link := lastResetLink(t, e, u.Email)
	resp, body = e.post(link, pwValues("", goodPassword, goodPassword, false), browserEN)
	de := e.srv.i18n.For("de", "")
	if resp.StatusCode != 200 || doc(t, body).Find("html").AttrOr("lang", "") != "de" ||
		!strings.HasPrefix(doc(t, body).Find("title").Text(), de.T("reset.done.title")) {
		t.Fatalf("reset done page: %d %q", resp.StatusCode, doc(t, body).Find("title").Text())
	}
}

// Accepting is consumed once under parallel requests: one answer accepts, the others find the link used,
// and the membership and its audit entry exist once.
func TestParallelAcceptsOfOneInvitation(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	bea := e.createUser("bea@beta.example", "Bea", "", map[int64]string{b.ID: "manager"})
	link := e.invite(bea.Email, "", a.ID, "viewer", "en")
	e.newClient()

	const n = 20
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.URL(link), strings.NewReader("existing=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			resp, err := e.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	accepted := 0
	for _, st := range statuses {
		switch st {
		case http.StatusSeeOther:
			accepted++
		case http.StatusGone:
		default:
			t.Errorf("status %d", st)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d parallel accepts succeeded, want 1", accepted)
	}
	if role, err := e.db.MemberRole(ctx, bea.ID, a.ID); err != nil || role != "viewer" {
		t.Fatalf("membership %q %v", role, err)
	}
	if got := peopleAuditCount(e, a.ID, "invite.accept"); got != 1 {
		t.Fatalf("%d audit entries", got)
	}
}
