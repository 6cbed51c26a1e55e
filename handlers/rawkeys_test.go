package handlers

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"portier/db"
	"portier/docs"
)

// auditWrite finds the actions the code writes: string literals passed to the audit helpers or assigned
// to a variable named action or to an entry's Action (as the application packages do).
var auditWrite = regexp.MustCompile(`(?:\b(?:audit|auditEntry|auditLogin|auditPasskeyLogin|auditSecretUse|sendInvitation)\([^"\n]*|\baction(?:, \w+)? :?= |\.Action(?:, \w+\.Target)? = |Action: )"([a-z_]+(?:\.[a-z_]+)*)"`)

// sampleTargets are targets as the code writes them, per action (others are free text: addresses, names).
var sampleTargets = map[string]string{
	"docs.create": "12:configurations:FW-01", "docs.update": "12:configurations:FW-01", "docs.delete": "13:contacts:Anna",
	"docs.restore": "13:contacts:Anna", "docs.view": "14:wireless:Gast", "docs.reveal": "15:passwords.password:NAS admin",
	"docs.reveal_old": "15:passwords:NAS admin", "docs.copy": "16:vpn.secret:Homeoffice", "docs.download_conf": "17:vpn.config:Laptop-Tunnel", "docs.export": "passwords",
	"docs.import": "passwords: 8", "invite.create": "new@kunde.example (manager)", "invite.resend": "new@kunde.example (viewer)",
	"invite.revoke": "new@kunde.example (technician)", "invite.accept": "new@kunde.example (admin)",
	"member.role": "m@kunde.example (viewer → manager)", "mfa.ok": "totp", "mfa.fail": "email", "mfa.voided": "passkey",
	"login.ok": "passkey", "mfa.rename": "totp #3", "mfa.remove": "passkey Laptop", "reauth.fail": "security",
	"terms.accept": "3", "terms.decline": "3", "terms.publish": "4",
	"settings.update": "msp.name: Muster IT; msp.support_email: help@muster.example; invite.ttl_days: 14",
	"articles.create": "21:documents:Internet ist ausgefallen", "articles.update": "21:documents:Internet ist ausgefallen",
	"articles.delete": "21:documents:Alt", "articles.copy": "22:documents:Onboarding", "templates.create": "3:documents:Onboarding",
	"templates.update": "3:documents:Onboarding", "templates.delete": "3:documents:Onboarding",
	"fields.create": "4:configurations:Inventarnummer", "fields.update": "4:configurations:Inventarnummer",
	"fields.delete": "4:passwords:Ablauf", "expiry.create": "5:licence:M365", "expiry.delete": "5:domain:Hauptdomain",
	"expiry.digest": "2", "expiry.digest_recipient": "vera@alpha.example → vera.privat@example.org",

	"docs.link": "12:configurations:FW-01 ↔ 15:passwords:NAS admin", "docs.unlink": "13:contacts:Anna ↔ 12:configurations:FW-01",
	"docs.attach": "12:configurations:FW-01 (Vertrag.pdf)", "docs.download": "12:configurations:FW-01 (Vertrag.pdf)",
	"docs.attachment_hidden": "12:configurations:FW-01 (backup.txt)", "docs.attachment_shown": "12:configurations:FW-01 (backup.txt)",
	"docs.attachment_delete": "12:configurations:FW-01 (backup.txt)",
}

// fileNameRE is the file name in parentheses that ends the target of a file action.
var fileNameRE = regexp.MustCompile(`\([^()]*\)$`)

// rawWords are internal words that must not reach a person: area, field, role and enum names, factor
// kinds, setting keys. (Words that are also the English text, such as "server" or "email", are left out.)
var rawWords = regexp.MustCompile(`\b(configurations|contacts|passwords|wireless|vpn|manager|viewer|technician|totp|access_point|wpa2_wpa3|password_otp|ttl_days|support_email|support_phone|msp\.name)\b|\b[a-z]+\.[a-z_]+(\.[a-z_]+)*\b`)

// No internal key reaches a person: every action the code audits is listed and has a text in both
// languages, the activity log shows every action and target translated in both languages, and every area,
// field, enum value, role, factor kind and status has a text of its own in both languages.
func TestNoRawKeyReachesAPerson(t *testing.T) {
	// 1. Every action written by the code is a known one.
	var files []string
	// The handlers, main, and the application packages where the rules (and their audit entries) live.
	for _, glob := range []string{"*.go", "../*.go", "../accounts/*.go", "../signin/*.go", "../audit/*.go"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	written := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range auditWrite.FindAllStringSubmatch(string(src), -1) {
			written[m[1]] = true
		}
	}
	if len(written) < 40 {
		t.Fatalf("found only %d audited actions: the scanner is broken", len(written))
	}
	for a := range written {
		if !knownAuditAction(a) {
			t.Errorf("the code audits %q, which auditActions (the filter and this test) does not list", a)
		}
	}

	// 2. The activity log shows each of them, and their targets, translated.
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	admin := e.createUser("ada@msp.example", "Ada Admin", "admin", nil)
	for _, a := range auditActions {
		if err := e.db.Audit(context.Background(), nil, db.AuditEntry{OrgID: o.ID, ActorID: admin.ID, ActorName: admin.Name, Action: a, Target: sampleTargets[a]}); err != nil {
			t.Fatal(err)
		}
	}
	e.login(admin.Email, testPassword)
	for _, lang := range []string{"en", "de"} {
		e.post("/lang", map[string][]string{"lang": {lang}, "next": {"/staff/audit"}}, nil)
		_, body := e.get("/staff/audit", nil)
		d := doc(t, body)
		if got := d.Find("html").AttrOr("lang", ""); got != lang {
			t.Fatalf("page language %q, want %q", got, lang)
		}
		rows := d.Find(`[data-testid=audit-row]`)
		for href, ok := d.Find(`[data-testid=audit-older]`).Attr("href"); ok; href, ok = doc(t, body).Find(`[data-testid=audit-older]`).Attr("href") {
			_, body = e.get(href, nil)
			rows = rows.AddSelection(doc(t, body).Find(`[data-testid=audit-row]`))
		}
		if rows.Length() < len(auditActions) {
			t.Fatalf("%s: %d rows for %d actions", lang, rows.Length(), len(auditActions))
		}
		for i := range rows.Length() {
			r := rows.Eq(i)
			text := r.Find("td").Eq(3).Text() + " | " + r.Find("td").Eq(4).Text()
			if act := r.AttrOr("data-action", ""); act == "docs.attach" || act == "docs.download" || strings.HasPrefix(act, "docs.attachment_") {
				// A file's name (user data, like an address) closes the target of a file action.
				text = fileNameRE.ReplaceAllString(text, "")
			}
			if m := rawWords.FindString(text); m != "" && !strings.Contains(text, "@") {
				t.Errorf("%s: %s shown as %q (raw %q)", lang, r.AttrOr("data-action", "?"), text, m)
			} else if m != "" {
				// Addresses contain dots: look at the text without them.
				clean := regexp.MustCompile(`\S+@\S+`).ReplaceAllString(text, "")
				if m := rawWords.FindString(clean); m != "" {
					t.Errorf("%s: %s shown as %q (raw %q)", lang, r.AttrOr("data-action", "?"), text, m)
				}
			}
		}
		// The filter offers every action by its translated name.
		opts := d.Find(`#audit-action option`)
		if opts.Length() != len(auditActions)+1 {
			t.Errorf("%s: filter offers %d options", lang, opts.Length())
		}
		for i := 1; i < opts.Length(); i++ {
			if txt := opts.Eq(i).Text(); txt == opts.Eq(i).AttrOr("value", "") || rawWords.MatchString(txt) {
				t.Errorf("%s: filter option %q", lang, txt)
			}
		}
	}

	// 3. Every area, field, enum value, role, factor kind and status has a text in both languages.
	var keys []string
	for _, a := range docs.Areas {
		keys = append(keys, "docs.area."+a.Name, "docs.new_heading."+a.Name)
		for _, f := range a.Fields {
			keys = append(keys, f.LabelKey(a.Name))
			for _, opt := range f.Options {
				keys = append(keys, f.OptionKey(opt))
			}
		}
	}
	for _, r := range []string{"manager", "viewer", "admin", "technician"} {
		keys = append(keys, "role."+r, "role."+r+".hint")
	}
	for _, k := range []string{db.MFATOTP, db.MFAEmail, db.MFAPasskey, "recovery", "unknown"} {
		keys = append(keys, "mfa.kind."+k)
	}
	for _, st := range []string{"invited", "active", "disabled"} {
		keys = append(keys, "people.status."+st)
	}
	for _, st := range []string{"pending", "accepted", "expired", "revoked"} {
		keys = append(keys, "invite.status."+st)
	}
	for _, a := range auditActions {
		keys = append(keys, "audit."+a)
	}
	for _, lang := range []string{"en", "de"} {
		l := e.srv.i18n.For(lang, "")
		for _, k := range keys {
			if got := l.T(k); got == k || strings.TrimSpace(got) == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}
