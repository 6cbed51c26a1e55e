package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"portier/i18n"
)

// The HTML part of a mail in both languages: its language, the button and the same address as text for
// clients that strip links, and what a person typed (a name) shown as text, never as markup. A mail has no
// data-testid attributes (they would only add bytes to every message): it is read by its structure.
func TestEmailInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://portal.muster-it.example/reset/abc?x=1&y=2"
	mail := func(s Shell) templ.Component {
		l := b.For(s.Lang, "")
		return EmailHTML(Email{Lang: s.Lang, Kind: "mail.reset", Subject: l.T("mail.reset.subject", "msp", "Muster IT"),
			Greeting: l.T("mail.greeting_name", "name", "<b>Kim</b>"), Paragraphs: []string{l.T("mail.reset.body", "msp", "Muster IT", "email", "kim@alpha.example")},
			ButtonText: l.T("mail.reset.button"), ButtonURL: link, After: []string{l.T("mail.not_you")},
			Signature: l.T("mail.signature", "msp", "Muster IT"), Footer: l.T("mail.footer", "msp", "Muster IT", "contact", "hilfe@muster-it.example", "url", "https://portal.muster-it.example/")})
	}
	checkPages(t, []pageCase{
		{
			name:   "reset mail",
			render: mail,
			more: func(t *testing.T, lang string, d *goquery.Document) {
				l := b.For(lang, "")
				if d.Find("title").Text() != l.T("mail.reset.subject", "msp", "Muster IT") {
					t.Errorf("%s: subject %q", lang, d.Find("title").Text())
				}
				a := d.Find(`a[href]`)
				if a.Length() != 1 || a.AttrOr("href", "") != link || a.Text() != l.T("mail.reset.button") {
					t.Errorf("%s: button %q → %q", lang, a.Text(), a.AttrOr("href", ""))
				}
				if !strings.Contains(d.Find("body").Text(), link) {
					t.Errorf("%s: the address is not readable without the button", lang)
				}
				if d.Find("body b").Length() != 0 || !strings.Contains(d.Find("p").First().Text(), "<b>Kim</b>") {
					t.Errorf("%s: a name became markup", lang)
				}
				ps := d.Find("body > p")
				if ps.Last().Text() != l.T("mail.footer", "msp", "Muster IT", "contact", "hilfe@muster-it.example", "url", "https://portal.muster-it.example/") {
					t.Errorf("%s: footer is not last", lang)
				}
			},
		},
		{
			name: "notice without a button",
			render: func(s Shell) templ.Component {
				l := b.For(s.Lang, "")
				return EmailHTML(Email{Lang: s.Lang, Subject: l.T("mail.password_changed.subject", "msp", "Muster IT"), Greeting: l.T("mail.greeting"),
					Paragraphs: []string{l.T("mail.password_changed.body", "email", "kim@alpha.example", "date", "1.2.2026")}, Signature: l.T("mail.signature", "msp", "Muster IT")})
			},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("a").Length() != 0 {
					t.Errorf("%s: a link in a mail without a button", lang)
				}
			},
		},
	})
}
