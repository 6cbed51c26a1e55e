package mailtext

import (
	"context"

	"portier/docsapp"
	"portier/i18n"
	"portier/mail"
)

// Plural messages: the files hold each with ".one" and ".other" (Localizer.N).
const (
	pluralInDays      = "expiry.in_days"
	pluralDaysAgo     = "expiry.days_ago"
	pluralDigestIntro = "mail.expiry_digest.intro"
)

// DaysLeft says how far away a date is: "today", "in 3 days", "2 days ago" (days as docsapp.DaysUntil
// counts them). The expiry page says it alike.
func DaysLeft(l *i18n.Localizer, days int) string {
	switch {
	case days == 0:
		return l.T("expiry.today")
	case days > 0:
		return l.N(pluralInDays, days)
	}
	return l.N(pluralDaysAgo, -days)
}

// ExpiryDigest is an organisation's weekly digest of what expired or expires soon, to one recipient.
func (c *Composer) ExpiryDigest(ctx context.Context, to string, d docsapp.ExpiryDigestMail) (mail.Message, error) {
	m, l := c.Start(d.Lang, "", "mail.expiry_digest.subject", "org", d.Org.Name)
	m.Paragraphs = append(m.Paragraphs, l.N(pluralDigestIntro, len(d.Lines), "org", d.Org.Name))
	for _, e := range d.Lines {
		m.Paragraphs = append(m.Paragraphs, l.T("mail.expiry_digest.line", "date", l.Date(e.Date), "kind", l.T(e.KindKey),
			"name", e.Name, "left", DaysLeft(l, e.Days)))
	}
	m.ButtonText, m.ButtonURL = l.T("mail.expiry_digest.button"), c.Link(d.Path)
	m.After = []string{l.T("mail.expiry_digest.why")}
	return c.Render(ctx, to, m)
}
