package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// Identity providers: the sign-in buttons, the address question, the invitation page, the administrators'
// form (new and existing), the test result and the security page's links — everything a provider sent
// shown as text.
func TestIdPPagesInBothLanguages(t *testing.T) {
	nav := StaffNav{IsAdmin: true, Current: "orgs"}
	checkPages(t, []pageCase{
		{
			name: "buttons",
			render: func(Shell) templ.Component {
				return IdPButtons([]IdPButton{{Name: "Contoso", Kind: "entra"}, {Name: "Beta", Kind: "google"}}, "/o/alpha")
			},
			want: wants{"idp-buttons": tr("idp.or_password"), "idp-continue-entra": tr("idp.continue", "provider", "Contoso"), "idp-continue-google": tr("idp.continue", "provider", "Beta")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`form[action="/login/idp"] input[name=idp][value="Contoso"]`).Length() != 1 || d.Find(`input[name=next][value="/o/alpha"]`).Length() != 2 {
					t.Errorf("%s: each button posts its provider and where to go", lang)
				}
			},
		},
		{
			name:   "no buttons",
			render: func(Shell) templ.Component { return IdPButtons(nil, "") },
			absent: []string{"idp-buttons"},
		},
		{
			name: "which address",
			render: func(s Shell) templ.Component {
				return IdPPick(s, IdPPickView{Name: "Contoso", Email: "x@beta.example", ErrorKey: "idp.pick.unknown_domain"})
			},
			want: wants{"idp-pick": tr("idp.pick.lead", "provider", "Contoso"), "email-error": tr("idp.pick.unknown_domain"), "idp-pick-submit": tr("idp.continue", "provider", "Contoso")},
		},
		{
			name: "invitation with terms not accepted",
			render: func(s Shell) templ.Component {
				return InviteIdP(s, InviteIdPView{Action: "/invite/tok/idp", PasswordHref: "/invite/tok?password=1", Email: "kim@alpha.example", Provider: "Contoso", Kind: "entra",
					LeadArgs: []any{"inviter", "Toni", "role", "Betrachter", "org", "Alpha GmbH"}, Terms: &TermsBox{Version: 2, Text: "Regeln", Required: true, ErrorKey: "setpw.terms.required"}})
			},
			want: wants{"invite-idp": tr("idp.invite.title", "provider", "Contoso"), "setpw-lead": tr("setpw.invite.lead", "inviter", "Toni", "role", "Betrachter", "org", "Alpha GmbH"),
				"invite-idp-email": lit("kim@alpha.example"), "setpw-terms-text": lit("Regeln"), "terms-error": tr("setpw.terms.required"),
				"idp-continue-entra": tr("idp.continue", "provider", "Contoso"), "invite-with-password": tr("idp.invite.password")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if c := d.Find(`[data-testid="setpw-terms"]`); c.AttrOr("value", "") != "2" || c.AttrOr("aria-invalid", "") != "true" {
					t.Errorf("%s: terms box", lang)
				}
			},
		},
		{
			name: "invitation without terms",
			render: func(s Shell) templ.Component {
				return InviteIdP(s, InviteIdPView{Action: "/a", PasswordHref: "/p", Provider: "Google", Kind: "google", LeadArgs: []any{"inviter", "Toni", "role", "x", "org", "y"}})
			},
			want:   wants{"invite-idp-form": tr("idp.continue", "provider", "Google")},
			absent: []string{"setpw-terms", "terms-error"},
		},
		{
			name: "new provider refused",
			render: func(s Shell) templ.Component {
				return IdPForm(s, IdPFormView{Nav: nav, OrgName: "Alpha GmbH", OrgSlug: "alpha", Kind: "oidc", Name: "<i>Keycloak</i>", Issuer: "ftp://x",
					RedirectURI: "https://portal.muster-it.example/login/idp/callback", ErrorKey: "idp.form.invalid", KindErr: "idp.form.kind.invalid",
					NameErr: "idp.form.name.invalid", IssuerErr: "idp.form.issuer.invalid", ClientIDErr: "idp.form.client_id.required",
					SecretErr: "idp.form.client_secret.required", DomainsErr: "idp.form.domains.required", ACRErr: "idp.form.mfa_acr.invalid"})
			},
			want: wants{"idp-form": tr("idp.form.title", "org", "Alpha GmbH"), "alert-error": tr("idp.form.invalid"), "idp-redirect-uri": lit("https://portal.muster-it.example/login/idp/callback"),
				"idp-kind-error": tr("idp.form.kind.invalid"), "idp-name-error": tr("idp.form.name.invalid"), "idp-issuer-error": tr("idp.form.issuer.invalid"),
				"idp-client-id-error": tr("idp.form.client_id.required"), "idp-client-secret-error": tr("idp.form.client_secret.required"),
				"idp-domains-error": tr("idp.form.domains.required"), "idp-mfa-acr-error": tr("idp.form.mfa_acr.invalid"), "idp-save": tr("idp.form.save")},
			absent: []string{"idp-test", "idp-delete", "idp-linked", "idp-linked-empty"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, ok := d.Find(`[data-testid="idp-kind-oidc"]`).Attr("checked"); !ok {
					t.Errorf("%s: chosen kind lost", lang)
				}
				if d.Find("#idp-name").AttrOr("value", "") != "<i>Keycloak</i>" || d.Find("#idp-domains").AttrOr("aria-describedby", "") != "idp-domains-error" {
					t.Errorf("%s: name or domains", lang)
				}
			},
		},
		{
			name: "existing provider with a linked account",
			render: func(s Shell) templ.Component {
				return IdPForm(s, IdPFormView{Nav: nav, OrgName: "Alpha GmbH", OrgSlug: "alpha", Exists: true, Kind: "entra", Name: "Contoso", Tenant: "contoso.example",
					ClientID: "cid", HasSecret: true, Domains: "alpha.example", RequirePortierMFA: true, FlashKey: "idp.form.saved",
					Identities: []IdPIdentityRow{{ID: 9, Person: "Kim", Email: "kim@alpha.example", Subject: "sub-1", Linked: "1.2.2026", LastUsed: "2.2.2026"}}})
			},
			want: wants{"alert-success": tr("idp.form.saved"), "idp-test": tr("idp.test.submit"), "idp-linked-kim@alpha.example": lit("sub-1"),
				"idp-unlink-kim@alpha.example": tr("idp.linked.unlink"), "idp-delete": tr("idp.delete.submit")},
			absent: []string{"idp-linked-empty", "alert-error", "idp-name-error"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				// The stored secret never comes back to the page; the hint says it is kept.
				if d.Find("#idp-client-secret").AttrOr("value", "") != "" || d.Find("#idp-client-secret").AttrOr("aria-describedby", "") != "idp-client-secret-hint" {
					t.Errorf("%s: secret field", lang)
				}
				if _, ok := d.Find(`[data-testid="idp-require-mfa"]`).Attr("checked"); !ok {
					t.Errorf("%s: MFA requirement lost", lang)
				}
				if d.Find(`form[action="/staff/orgs/alpha/idp/identities/9/unlink"]`).Length() != 1 {
					t.Errorf("%s: unlink form", lang)
				}
			},
		},
		{
			name: "existing provider, nobody linked",
			render: func(s Shell) templ.Component {
				return IdPForm(s, IdPFormView{Nav: nav, OrgName: "Alpha GmbH", OrgSlug: "alpha", Exists: true, Kind: "google"})
			},
			want: wants{"idp-linked-empty": tr("idp.linked.empty")},
		},
		{
			name: "test result, address not vouched for",
			render: func(s Shell) templ.Component {
				return IdPTest(s, IdPTestView{Nav: nav, OrgName: "Alpha GmbH", OrgSlug: "alpha", Provider: "Contoso", Subject: "sub-1", Email: "kim@other.example",
					RefusalKey: "idp.refused.unverified", ProviderMFA: true, Claims: []ClaimRow{{Name: "email", Value: `"<script>x</script>"`}}})
			},
			want: wants{"idp-test-result": tr("idp.test.result.ok", "provider", "Contoso"), "idp-test-subject": lit("sub-1"),
				"idp-test-email": tr("idp.refused.unverified", "provider", "Contoso"), "idp-test-mfa": tr("idp.test.result.mfa_required_anyway"),
				"idp-test-claims": lit(`"<script>x</script>"`)},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-vouched="false"]`).Length() != 1 || d.Find(`[data-testid="idp-test-claims"] script`).Length() != 0 {
					t.Errorf("%s: vouching or a claim rendered as markup", lang)
				}
			},
		},
		{
			name: "test result, vouched and MFA accepted",
			render: func(s Shell) templ.Component {
				return IdPTest(s, IdPTestView{Nav: nav, OrgSlug: "alpha", Provider: "Contoso", Subject: "s", Email: "kim@alpha.example", Vouched: true, AcceptsMFA: true})
			},
			want: wants{"idp-test-email": tr("idp.test.result.vouched"), "idp-test-mfa": tr("idp.test.result.mfa_accepted")},
		},
		{
			name: "security page links",
			render: func(Shell) templ.Component {
				return IdPLinks([]IdPLinkRow{{IdPID: 3, Provider: "Contoso", Kind: "entra", Org: "Alpha GmbH", Linked: true, Email: "kim@alpha.example"},
					{IdPID: 4, Provider: "Google", Kind: "google", Org: "Beta AG"}})
			},
			want: wants{"security-idp": tr("idp.link.lead"), "idp-link-3": tr("idp.link.linked", "provider", "Contoso", "email", "kim@alpha.example"),
				"idp-link-4": tr("idp.link.connect", "provider", "Google")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="idp-link-3"] [data-testid="idp-link-start"]`).Length() != 0 || d.Find(`form[action="/security/idp/4/link"]`).Length() != 1 {
					t.Errorf("%s: link buttons", lang)
				}
			},
		},
	})
}
