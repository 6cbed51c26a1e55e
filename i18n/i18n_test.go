package i18n

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBothLanguagesHaveTheSameNonEmptyKeys(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	en, de := b.Keys("en"), b.Keys("de")
	if len(en) < 20 {
		t.Fatalf("only %d keys", len(en))
	}
	for k, v := range en {
		if _, ok := de[k]; !ok {
			t.Errorf("de.json lacks %q", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("en.json: %q is empty", k)
		}
	}
	for k, v := range de {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("de.json: %q is empty", k)
		}
	}
	// Placeholders agree between the languages.
	ph := regexp.MustCompile(`\{[a-z_]+\}`)
	for k, v := range en {
		a, b := ph.FindAllString(v, -1), ph.FindAllString(de[k], -1)
		if strings.Join(sortedUnique(a), ",") != strings.Join(sortedUnique(b), ",") {
			t.Errorf("%s: placeholders differ: en %v, de %v", k, a, b)
		}
	}
}

// German texts address the reader formally (Sie), never with du/dein.
func TestGermanUsesSie(t *testing.T) {
	b, _ := Load()
	informal := regexp.MustCompile(`(?i)\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|euch|euer|eure)\b`)
	for k, v := range b.Keys("de") {
		if m := informal.FindString(v); m != "" {
			t.Errorf("de.json %s uses %q: %s", k, m, v)
		}
	}
}

// keyUse finds translation keys in Go and templ sources: the first string argument of T, N, t and tn
// calls, and string values of fields whose name ends in Key.
var keyUse = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:T|t)\(\s*(?:ctx,\s*)?"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`),
	regexp.MustCompile(`Key\s*[:=]\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`),
	regexp.MustCompile(`Key,\s*\w+\.\w+\s*=\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)",\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`),
}

// pluralUse finds the keys of counts (N and tn calls), which live in the files as key.one and key.other.
var pluralUse = regexp.MustCompile(`\b(?:N|tn)\(\s*(?:ctx,\s*)?"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)

func TestEveryKeyUsedInCodeExists(t *testing.T) {
	b, _ := Load()
	en := b.Keys("en")
	root := ".."
	found := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "data") {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(p, "_templ.go") || strings.HasSuffix(p, "_test.go") ||
			!(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".templ")) {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range pluralUse.FindAllStringSubmatch(string(src), -1) {
			found++
			for _, form := range []string{".one", ".other"} {
				if _, ok := en[m[1]+form]; !ok {
					t.Errorf("%s counts with key %q that i18n/en.json lacks", p, m[1]+form)
				}
			}
		}
		for _, re := range keyUse {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				for _, key := range m[1:] {
					found++
					if _, ok := en[key]; !ok {
						t.Errorf("%s uses key %q that i18n/en.json lacks", p, key)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 10 {
		t.Fatalf("found only %d key uses: the scanner is broken", found)
	}
}

// A count is never written into a text with a fixed plural: every {n} lives in key.one/key.other (and
// renders through N), and the forms come from CLDR: "1 Eintrag", "0 Einträge", "2 Einträge".
func TestCountsUsePluralRules(t *testing.T) {
	b, _ := Load()
	for _, lang := range Languages {
		for k, v := range b.Keys(lang) {
			if strings.Contains(v, "{n}") && !strings.HasSuffix(k, ".one") && !strings.HasSuffix(k, ".other") {
				t.Errorf("%s.json %s has a count without plural forms: %q", lang, k, v)
			}
			if base, ok := strings.CutSuffix(k, ".one"); ok {
				if _, ok := b.Keys(lang)[base+".other"]; !ok {
					t.Errorf("%s.json has %s but no %s.other", lang, k, base)
				}
			}
		}
	}
	de, en := b.For("de", ""), b.For("en", "")
	for n, want := range map[int]string{0: "0 Einträge", 1: "1 Eintrag", 2: "2 Einträge", 21: "21 Einträge"} {
		if got := de.N("docs.total", n); got != want {
			t.Errorf("de N(docs.total, %d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{0: "0 entries", 1: "1 entry", 2: "2 entries"} {
		if got := en.N("docs.total", n); got != want {
			t.Errorf("en N(docs.total, %d) = %q, want %q", n, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	b, _ := Load()
	for header, want := range map[string]string{
		"":                            "de",
		"en":                          "en",
		"en-US,en;q=0.9":              "en",
		"de-CH":                       "de",
		"fr-FR,fr;q=0.9":              "de",
		"fr-FR,fr;q=0.9,en;q=0.5":     "en",
		"de;q=0.1,en;q=0.9":           "en",
		"*":                           "de",
		"garbage;;;q=x":               "de",
		strings.Repeat("en-US,", 500): "en",
	} {
		if got := b.Negotiate(header); got != want {
			t.Errorf("Negotiate(%.30q) = %q, want %q", header, got, want)
		}
	}
}

func TestTextsAndDates(t *testing.T) {
	b, _ := Load()
	de, en := b.For("de", ""), b.For("en", "America/New_York")
	if got := de.T("welcome.title", "msp", "Muster IT"); got != "Willkommen im Kundenportal von Muster IT" {
		t.Errorf("de: %q", got)
	}
	if got := en.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
	if b.For("xx", "Not/AZone").Lang != "de" {
		t.Error("unknown language not defaulted to German")
	}
	ts := time.Date(2026, 11, 22, 13, 5, 0, 0, time.UTC)
	if got := de.DateTime(ts); got != "22.11.2026, 14:05" {
		t.Errorf("de date: %q", got)
	}
	if got := en.DateTime(ts); got != "22 Nov 2026, 08:05" {
		t.Errorf("en date in New York: %q", got)
	}
	if got := de.Date(ts); got != "22.11.2026" {
		t.Errorf("de date only: %q", got)
	}
}

func sortedUnique(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	out := make([]string, 0, len(m))
	for x := range m {
		out = append(out, x)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A localizer stored as a function is made when first asked for, once, also when asked from several
// goroutines at once; a context with one counts as having a localizer.
func TestLocalizerFuncIsMadeOnceWhenAsked(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var made atomic.Int32
	ctx := WithLocalizerFunc(context.Background(), func() *Localizer { made.Add(1); return b.For("en", "") })
	if !Has(ctx) || made.Load() != 0 {
		t.Fatalf("has %v, made %d before use", Has(ctx), made.Load())
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if l := From(ctx); l.Lang != "en" {
				t.Errorf("lang %q", l.Lang)
			}
		})
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Fatalf("made %d times, want 1", made.Load())
	}
	if Has(context.Background()) {
		t.Fatal("an empty context has a localizer")
	}
}
