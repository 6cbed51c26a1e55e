package handlers

import (
	"regexp"
	"strconv"
	"strings"

	"portier/db"
	"portier/docs"
	"portier/docsapp"
	"portier/i18n"
)

// What the activity log shows a person: every action by its translated name and every target with its
// internal words (areas, fields, roles, kinds of second factor, setting names) translated, in the reader's
// language, whatever the language of the person who caused the entry. The log stores stable codes; this is
// the one place that turns them into words.

// auditActions are the actions the log records, in the order the filter offers them. A test makes sure
// every action the code writes is here and has a text in both languages.
var auditActions = []string{
	"login.ok", "login.idp", "login.fail", "login.locked", "logout", "idp.refused", "idp.fail",
	"mfa.ok", "mfa.fail", "mfa.voided", "mfa.email.sent", "recovery.used",
	"mfa.enrol.totp", "mfa.enrol.email", "mfa.enrol.passkey", "mfa.rename", "mfa.remove", "mfa.reset", "mfa.passkey.cloned",
	"recovery.create", "recovery.regenerate",
	"password.set", "password.change", "password.forgot", "password.reset", "reauth.fail",
	"email.confirm_sent", "email.confirmed", "email.confirm_taken", "email.change_request", "email.change_taken", "email.change_cancel",
	"profile.update", "avatar.set", "avatar.remove", "session.end", "session.end_others",
	"terms.accept", "terms.decline", "terms.publish",
	"invite.create", "invite.resend", "invite.revoke", "invite.withdraw", "invite.accept", "member.role", "member.remove", "user.disable", "user.enable",
	"org.create", "settings.update", "idp.save", "idp.test", "idp.delete", "idp.link", "idp.unlink",
	"docs.create", "docs.update", "docs.delete", "docs.restore", "docs.view", "docs.reveal", "docs.reveal_old", "docs.copy", "docs.download_conf",
	"docs.export", "docs.import", "docs.handbook_secrets", "docs.handbook_reveal",
	"articles.create", "articles.update", "articles.delete", "articles.restore", "articles.copy", "templates.create", "templates.update", "templates.delete",
	"fields.create", "fields.update", "fields.delete", "expiry.create", "expiry.delete", "expiry.digest",
	"docs.link", "docs.unlink", "docs.attach", "docs.download", "docs.attachment_hidden", "docs.attachment_shown", "docs.attachment_delete",
}

// knownAuditAction reports whether a is one of auditActions.
func knownAuditAction(a string) bool {
	for _, x := range auditActions {
		if x == a {
			return true
		}
	}
	return false
}

// auditActionText shows an action through its translation "audit.<action>", or its raw name when there
// is none (an entry written by a later version still shows up).
func auditActionText(l *i18n.Localizer, action string) string {
	key := "audit." + action
	if txt := l.T(key); txt != key {
		return txt
	}
	return action
}

var (
	areaNames    = `(configurations|contacts|passwords|wireless|vpn)`
	docTargetRE  = regexp.MustCompile(`^\d+:` + areaNames + `(?:\.([a-z0-9_]+))?:(.*)$`)
	importRE     = regexp.MustCompile(`^` + areaNames + `: (\d+)$`)
	articleRE    = regexp.MustCompile(`^\d+:documents:(.*)$`)
	fieldRE      = regexp.MustCompile(`^\d+:` + areaNames + `:(.*)$`)
	expiryRE     = regexp.MustCompile(`^\d+:(licence|certificate|domain|contract):(.*)$`)
	roleNames    = `(manager|viewer|admin|technician)`
	roleRE       = regexp.MustCompile(`^(.*) \(` + roleNames + `\)$`)
	roleChangeRE = regexp.MustCompile(`^(.*) \(` + roleNames + ` → ` + roleNames + `\)$`)
)

// settingLabels names the settings the settings page changes (settings.update stores "key: value; …").
var settingLabels = map[string]string{
	"msp.name":          "field.msp_name",
	"msp.support_email": "field.support_email",
	"msp.support_phone": "field.support_phone",
	"invite.ttl_days":   "field.invite_ttl_days",
	"msp.logo_name":     "mspsetup.logo_audit",
}

// auditTargetText shows what an entry concerns without internal ids or codes.
func auditTargetText(l *i18n.Localizer, action, target string) string {
	switch {
	case action == "docs.link" || action == "docs.unlink":
		// Both items of the link, each as an item target (docs_links.go).
		if a, b, ok := strings.Cut(target, docsapp.LinkSep); ok {
			return auditTargetText(l, "docs.view", a) + docsapp.LinkSep + auditTargetText(l, "docs.view", b)
		}
	case strings.HasPrefix(action, "docs."):
		// A document's side of a link, or a document's file (docsapp.DocumentTarget).
		if m := articleRE.FindStringSubmatch(target); m != nil {
			return l.T("articles.title") + ": " + m[1]
		}
		if m := docTargetRE.FindStringSubmatch(target); m != nil {
			s := l.T("docs.area."+m[1]) + ": " + m[3]
			if m[2] != "" {
				s += " (" + l.T(docs.Field{Name: m[2]}.LabelKey(m[1])) + ")"
			}
			return s
		}
		if m := importRE.FindStringSubmatch(target); m != nil {
			n, _ := strconv.Atoi(m[2])
			return l.T("docs.area."+m[1]) + ": " + l.N("docs.total", n)
		}
		for _, a := range docs.Areas {
			if a.Name == target {
				return l.T("docs.area." + target)
			}
		}
	case strings.HasPrefix(action, "articles.") || strings.HasPrefix(action, "templates."):
		if m := articleRE.FindStringSubmatch(target); m != nil {
			return l.T(strings.Split(action, ".")[0]+".title") + ": " + m[1]
		}
	case strings.HasPrefix(action, "fields."):
		if m := fieldRE.FindStringSubmatch(target); m != nil {
			return l.T("docs.area."+m[1]) + ": " + m[2]
		}
	case action == "expiry.digest":
		if n, err := strconv.Atoi(target); err == nil {
			return l.N(pluralDigestRecipients, n)
		}
	case strings.HasPrefix(action, "expiry."):
		if m := expiryRE.FindStringSubmatch(target); m != nil {
			return l.T("expiry.kind."+m[1]) + ": " + m[2]
		}
	case action == "member.role":
		if m := roleChangeRE.FindStringSubmatch(target); m != nil {
			return m[1] + " (" + l.T("role."+m[2]) + " → " + l.T("role."+m[3]) + ")"
		}
	case strings.HasPrefix(action, "invite."):
		if m := roleRE.FindStringSubmatch(target); m != nil {
			return m[1] + " (" + l.T("role."+m[2]) + ")"
		}
	case action == "mfa.ok" || action == "mfa.fail" || action == "mfa.voided" || action == "login.ok" || action == "login.fail":
		if target == db.MFATOTP || target == db.MFAEmail || target == db.MFAPasskey || target == "recovery" {
			return l.T("mfa.kind." + target)
		}
	case action == "mfa.rename" || action == "mfa.remove":
		// "<kind> #<id>" or "<kind> <name>"
		kind, rest, _ := strings.Cut(target, " ")
		if kind == db.MFATOTP || kind == db.MFAEmail || kind == db.MFAPasskey {
			if strings.HasPrefix(rest, "#") || rest == "" {
				return l.T("mfa.kind." + kind)
			}
			return l.T("mfa.kind."+kind) + ": " + rest
		}
	case action == "reauth.fail":
		if target == "password" || target == "email" || target == "security" {
			return l.T("audit.target.reauth." + target)
		}
	case strings.HasPrefix(action, "terms."):
		if _, err := strconv.Atoi(target); err == nil {
			return l.T("audit.target.terms_version", "version", target)
		}
	case action == "settings.update":
		parts := strings.Split(target, "; ")
		for i, p := range parts {
			if k, v, ok := strings.Cut(p, ": "); ok && settingLabels[k] != "" {
				parts[i] = l.T(settingLabels[k]) + ": " + v
			}
		}
		return strings.Join(parts, "; ")
	}
	return target
}
