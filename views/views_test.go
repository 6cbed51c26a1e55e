package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/i18n"
)

func shell(lang string) Shell {
	return Shell{Title: "T", MSP: MSP{Name: "Muster IT", SupportEmail: "hilfe@muster-it.example", SupportPhone: "+49 (30) 123"},
		Assets: Assets{Pico: "/p.css", App: "/a.css", HTMX: "/h.js", Icon: "/i.svg", Copy: "/c.js"}, Lang: lang, Path: "/x?y=1"}
}

func TestComponentsInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"de": {"Willkommen im Kundenportal von Muster IT", "Anmelden", "Zum Inhalt springen"},
		"en": {"Welcome to the customer portal of Muster IT", "Sign in", "Skip to content"},
	} {
		ctx := i18n.WithLocalizer(context.Background(), b.For(lang, ""))
		var buf bytes.Buffer
		if err := Welcome(shell(lang)).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		d, _ := goquery.NewDocumentFromReader(&buf)
		if got := d.Find("html").AttrOr("lang", ""); got != lang {
			t.Errorf("%s: html lang %q", lang, got)
		}
		text := d.Text()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: welcome lacks %q", lang, w)
			}
		}
		if d.Find(`[data-testid="support-phone"]`).AttrOr("href", "") != "tel:+4930123" {
			t.Errorf("%s: tel link %q", lang, d.Find(`[data-testid="support-phone"]`).AttrOr("href", ""))
		}
		if d.Find(`[data-testid="lang-switch"] input[name=next]`).AttrOr("value", "") != "/x?y=1" {
			t.Errorf("%s: language switch does not come back to the page", lang)
		}

		buf.Reset()
		if err := Login(shell(lang), LoginView{Email: "a@b.example", ErrorKey: "login.failed"}).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		d, _ = goquery.NewDocumentFromReader(&buf)
		d.Find("input:not([type=hidden])").Each(func(_ int, s *goquery.Selection) {
			id := s.AttrOr("id", "")
			if id == "" || d.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("%s: input %q has no label", lang, s.AttrOr("name", ""))
			}
		})
		if d.Find(`#email[autocomplete=username]`).Length() != 1 || d.Find(`#password[autocomplete=current-password]`).Length() != 1 {
			t.Errorf("%s: autocomplete attributes missing", lang)
		}
		if d.Find(`[data-testid="alert-error"][role=alert]`).Length() != 1 {
			t.Errorf("%s: error not announced", lang)
		}
		if d.Find(`input[else]`).Length() != 0 {
			t.Errorf("%s: stray attribute", lang)
		}

		buf.Reset()
		if err := ErrorPage(shell(lang), ErrorView{Status: 404, TitleKey: "error.404.title", TextKey: "error.404.text"}).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		d, _ = goquery.NewDocumentFromReader(&buf)
		if d.Find(`[data-testid="error"]`).AttrOr("data-status", "") != "404" || !strings.Contains(d.Find("h1").Text(), map[string]string{"de": "Seite nicht gefunden", "en": "Page not found"}[lang]) {
			t.Errorf("%s: error page", lang)
		}
	}
}
