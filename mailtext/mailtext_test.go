package mailtext_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
	"portier/i18n"
	"portier/mailtext"
	"portier/views"
)

// Both parts of a mail come from one model, in the recipient's language, with links under the base URL
// and the MSP's current name (read at every mail).
func TestInvitationInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://portal.example/")
	msp := views.MSP{Name: "Muster IT", SupportEmail: "hilfe@muster-it.example"}
	c := mailtext.New(b, base, func() views.MSP { return msp })
	if got := c.Link("/forgot"); got != "https://portal.example/forgot" {
		t.Fatalf("link %q", got)
	}
	inv := &db.Invitation{Email: "anna@kunde.example", Name: "Anna", Lang: "de", OrgID: 1, OrgName: "Kunde GmbH", Role: "viewer",
		ExpiresAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	link := "https://portal.example/invite/TOKEN"
	for _, lang := range []string{"de", "en"} {
		inv.Lang = lang
		m, err := c.Invitation(context.Background(), inv, link, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.To != inv.Email || m.Kind != "mail.invite" || !strings.Contains(m.Subject, "Muster IT") {
			t.Errorf("%s: %+v", lang, m)
		}
		for _, part := range []string{m.Text, m.HTML} {
			if !strings.Contains(part, link) || !strings.Contains(part, "Kunde GmbH") || !strings.Contains(part, "hilfe@muster-it.example") {
				t.Errorf("%s: a part lacks the link, the organisation or the support contact:\n%s", lang, part)
			}
		}
	}
	msp.Name = "Neuer Name"
	m, _ := c.Invitation(context.Background(), inv, link, "")
	if !strings.Contains(m.Subject, "Neuer Name") {
		t.Errorf("the MSP's new name is not used: %q", m.Subject)
	}
}
