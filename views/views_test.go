package views

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

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

// pageCase is one rendering of a page or fragment: the elements that must be there (data-testid → a text
// the element contains, "" for presence only), those that must not, and what must hold besides.
type pageCase struct {
	name   string
	render func(Shell) templ.Component
	want   wants
	absent []string
	more   func(t *testing.T, lang string, d *goquery.Document)
}

// component lets a test file name what a case renders without importing templ.
type component = templ.Component

// wants maps a data-testid to the text its element must contain.
type wants = map[string]func(*i18n.Localizer) string

// tr is the text of key in the page's language.
func tr(key string, args ...any) func(*i18n.Localizer) string {
	return func(l *i18n.Localizer) string { return l.T(key, args...) }
}

// trN is the text of key for count n, in the language's plural form.
func trN(key string, n int, args ...any) func(*i18n.Localizer) string {
	return func(l *i18n.Localizer) string { return l.N(key, n, args...) }
}

// lit is a text from the view model, the same in every language.
func lit(s string) func(*i18n.Localizer) string { return func(*i18n.Localizer) string { return s } }

// exists asks only for the element's presence.
func exists(*i18n.Localizer) string { return "" }

// keyShaped is a whole text that looks like a translation key ("area.foo_bar"): what the localizer prints
// for a key the language file lacks.
var keyShaped = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// placeholder is a {name} the text's arguments did not fill.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// keyLeak finds a translation key (one of the language files' prefixes followed by a dot) inside a text.
func keyLeak(b *i18n.Bundle) *regexp.Regexp {
	prefixes := map[string]bool{}
	for k := range b.Keys("en") {
		prefixes[regexp.QuoteMeta(strings.SplitN(k, ".", 2)[0])] = true
	}
	alt := make([]string, 0, len(prefixes))
	for p := range prefixes {
		alt = append(alt, p)
	}
	sort.Strings(alt)
	return regexp.MustCompile(`\b(` + strings.Join(alt, "|") + `)\.[a-z0-9_]+(\.[a-z0-9_]+)*\b`)
}

// readable are the attributes people read or hear; the rest (data-rule, data-action, names, URLs) may
// carry keys and codes on purpose.
var readable = []string{"aria-label", "title", "alt", "placeholder", "hx-confirm", "data-label", "data-msg-failed", "data-msg-unsupported", "data-copied", "data-copy-failed"}

// checkPages renders every case in German and English with the real language files and checks its
// data-testid elements, that no translation key reaches a reader, and that a full page names its language.
func checkPages(t *testing.T, cases []pageCase) {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	leak := keyLeak(b)
	for _, c := range cases {
		for _, lang := range []string{"de", "en"} {
			l := b.For(lang, "")
			var buf bytes.Buffer
			if err := c.render(shell(lang)).Render(i18n.WithLocalizer(context.Background(), l), &buf); err != nil {
				t.Fatalf("%s (%s): %v", c.name, lang, err)
			}
			d, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte("<html")) && d.Find("html").AttrOr("lang", "") != lang {
				t.Errorf("%s (%s): html lang %q", c.name, lang, d.Find("html").AttrOr("lang", ""))
			}
			for id, want := range c.want {
				s := d.Find(`[data-testid="` + id + `"]`)
				if s.Length() == 0 {
					t.Errorf("%s (%s): no %s", c.name, lang, id)
					continue
				}
				w := strings.Join(strings.Fields(want(l)), " ")
				if keyShaped.MatchString(w) {
					t.Errorf("%s (%s): %s: %q is missing from the language file", c.name, lang, id, w)
				}
				if got := strings.Join(strings.Fields(s.Text()), " "); !strings.Contains(got, w) {
					t.Errorf("%s (%s): %s says %q, want it to contain %q", c.name, lang, id, got, w)
				}
			}
			for _, id := range c.absent {
				if d.Find(`[data-testid="`+id+`"]`).Length() != 0 {
					t.Errorf("%s (%s): %s shown", c.name, lang, id)
				}
			}
			d.Find("*").Not("script, style").Contents().Each(func(_ int, s *goquery.Selection) {
				if goquery.NodeName(s) != "#text" {
					return
				}
				txt := strings.TrimSpace(s.Text())
				// Inputs and code show what people typed or systems sent, which may look like a key.
				data := s.ParentsFiltered("textarea, code, pre").Length() > 0
				if k := leak.FindString(txt); k != "" || (!data && keyShaped.MatchString(txt)) {
					t.Errorf("%s (%s): untranslated %q", c.name, lang, txt)
				}
				if p := placeholder.FindString(txt); p != "" {
					t.Errorf("%s (%s): %s not filled in %q", c.name, lang, p, txt)
				}
			})
			for _, a := range readable {
				d.Find("[" + a + "]").Each(func(_ int, s *goquery.Selection) {
					v := strings.TrimSpace(s.AttrOr(a, ""))
					if leak.MatchString(v) || keyShaped.MatchString(v) {
						t.Errorf("%s (%s): %s=%q untranslated", c.name, lang, a, v)
					}
				})
			}
			if c.more != nil {
				c.more(t, lang, d)
			}
		}
	}
}

// in renders a component inside the layout, as the handlers do.
func in(s Shell, child templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return Layout(s).Render(templ.WithChildren(ctx, child), w)
	})
}

// join renders components one after the other.
func join(cs ...component) component { return templ.Join(cs...) }
