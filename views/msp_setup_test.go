package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The MSP's first setup step: its fields with their problems, the stored logo, and the logo's own error.
func TestMSPSetupInBothLanguages(t *testing.T) {
	checkPages(t, []pageCase{
		{
			name: "refused with every problem",
			render: func(s Shell) templ.Component {
				return MSPSetup(s, MSPSetupView{Name: "", Email: "x", Phone: "abc", NameErr: "docs.err.required", EmailErr: "docs.err.email", PhoneErr: "docs.err.phone",
					LogoErr: "profile.avatar.error.too_large", LogoArgs: []any{"mb", 2}, LogoURL: "/logo-1.png"})
			},
			want: wants{"msp-setup": tr("mspsetup.lead"), "msp-name-error": tr("docs.err.required"), "support-email-error": tr("docs.err.email"),
				"support-phone-error": tr("docs.err.phone"), "error-logo": tr("profile.avatar.error.too_large", "mb", 2), "msp-setup-submit": tr("mspsetup.submit")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#msp-logo").AttrOr("aria-invalid", "") != "true" || d.Find(`[data-testid="msp-setup-form"] img[src="/logo-1.png"]`).Length() != 1 {
					t.Errorf("%s: logo error or stored logo", lang)
				}
				if d.Find(`[data-testid="msp-setup-form"]`).AttrOr("enctype", "") != "multipart/form-data" {
					t.Errorf("%s: the logo cannot be uploaded", lang)
				}
			},
		},
		{
			name:   "first visit",
			render: func(s Shell) templ.Component { return MSPSetup(s, MSPSetupView{Name: "Muster IT"}) },
			want:   wants{"msp-setup-form": tr("mspsetup.later")},
			absent: []string{"msp-name-error", "error-logo"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, bad := d.Find("#msp-logo").Attr("aria-invalid"); bad || d.Find("#msp-name").AttrOr("value", "") != "Muster IT" {
					t.Errorf("%s: a fresh form is marked or loses the name", lang)
				}
			},
		},
	})
}
