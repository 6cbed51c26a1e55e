// Package i18n holds every user-visible text in German and English (en.json, de.json: flat dotted keys),
// chooses the language for a request and formats dates for a locale and time zone.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

//go:embed en.json de.json
var files embed.FS

// Languages in order of preference when nothing else decides; German is the default.
var Languages = []string{"de", "en"}

// Default is the language used when neither the user, a cookie nor the browser chooses one.
const Default = "de"

// DefaultTimeZone is used for people who have not chosen one.
const DefaultTimeZone = "Europe/Berlin"

// Bundle holds the texts of all languages.
type Bundle struct {
	msgs    map[string]map[string]string
	matcher language.Matcher
	berlin  *time.Location
}

// Load reads the embedded message files.
func Load() (*Bundle, error) {
	b := &Bundle{msgs: map[string]map[string]string{}}
	tags := make([]language.Tag, len(Languages))
	for i, lang := range Languages {
		raw, err := files.ReadFile(lang + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
		}
		b.msgs[lang] = m
		tags[i] = language.MustParse(lang)
	}
	b.matcher = language.NewMatcher(tags)
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		return nil, err
	}
	b.berlin = loc
	return b, nil
}

// Supported reports whether lang is one of ours.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Negotiate picks a language from an Accept-Language header; German when nothing matches.
func (b *Bundle) Negotiate(acceptLanguage string) string {
	if acceptLanguage == "" {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	// Use the index the matcher returns, not its tag: the tag may carry extensions ("de-u-rg-chzzzz").
	_, idx, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Languages[idx]
}

// Keys returns the keys of one language (for tests and tools).
func (b *Bundle) Keys(lang string) map[string]string { return b.msgs[lang] }

// Localizer renders texts and dates for one person: a language and a time zone.
type Localizer struct {
	Lang string
	TZ   *time.Location
	msgs map[string]string
}

// For returns the localizer for lang in time zone tz (an IANA name; the default when empty or unknown).
func (b *Bundle) For(lang, tz string) *Localizer {
	if !Supported(lang) {
		lang = Default
	}
	loc := b.berlin
	if tz != "" && tz != DefaultTimeZone {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	return &Localizer{Lang: lang, TZ: loc, msgs: b.msgs[lang]}
}

// T returns the text for key with {name} placeholders filled from args, given as name, value pairs.
// A missing key renders as the key itself (tests make sure none is missing).
func (l *Localizer) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// N renders a count with the CLDR cardinal plural rules of the localizer's language (golang.org/x/text's
// copy of the CLDR tables): key+".one", key+".other" and, for languages that have them, ".zero", ".two",
// ".few", ".many". A form the files lack falls back to ".other". {n} is filled with n. Every text with a
// count goes through here, so that no page says "1 Einträge".
func (l *Localizer) N(key string, n int, args ...any) string {
	suffix := pluralSuffix(l.Lang, n)
	if _, ok := l.msgs[key+suffix]; !ok {
		suffix = ".other"
	}
	return l.T(key+suffix, append([]any{"n", strconv.Itoa(n)}, args...)...)
}

// pluralSuffix is the key suffix of n's plural form in lang.
func pluralSuffix(lang string, n int) string {
	i := n
	if i < 0 {
		i = -i
	}
	switch plural.Cardinal.MatchPlural(language.Make(lang), i, 0, 0, 0, 0) {
	case plural.Zero:
		return ".zero"
	case plural.One:
		return ".one"
	case plural.Two:
		return ".two"
	case plural.Few:
		return ".few"
	case plural.Many:
		return ".many"
	}
	return ".other"
}

// DateTime formats t in the person's time zone: "22.11.2026, 14:05" or "22 Nov 2026, 14:05".
func (l *Localizer) DateTime(t time.Time) string {
	t = t.In(l.TZ)
	if l.Lang == "de" {
		return t.Format("02.01.2006, 15:04")
	}
	return t.Format("2 Jan 2006, 15:04")
}

// Date formats the date part only.
func (l *Localizer) Date(t time.Time) string {
	t = t.In(l.TZ)
	if l.Lang == "de" {
		return t.Format("02.01.2006")
	}
	return t.Format("2 Jan 2006")
}

type ctxKey struct{}

// WithLocalizer stores l in ctx for views.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// WithLocalizerFunc stores a localizer that is made by f when a view first asks for it, at most once. The
// language of a request's headers is worked out this way: a signed-in person's page replaces it with the
// person's own language before anything reads it, and parsing Accept-Language on each of their requests
// was 3% of a list page's time (`portier bench`).
func WithLocalizerFunc(ctx context.Context, f func() *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazyLocalizer{f: f})
}

type lazyLocalizer struct {
	once sync.Once
	f    func() *Localizer
	l    *Localizer
}

func (z *lazyLocalizer) get() *Localizer {
	z.once.Do(func() { z.l = z.f() })
	return z.l
}

// Has reports whether ctx carries a localizer.
func Has(ctx context.Context) bool {
	switch ctx.Value(ctxKey{}).(type) {
	case *Localizer, *lazyLocalizer:
		return true
	}
	return false
}

// From returns the localizer stored in ctx. A context without one (tests, background jobs) gets a German
// localizer without texts, which renders keys; real requests always carry one.
func From(ctx context.Context) *Localizer {
	switch l := ctx.Value(ctxKey{}).(type) {
	case *Localizer:
		return l
	case *lazyLocalizer:
		return l.get()
	}
	return &Localizer{Lang: Default, TZ: time.UTC}
}
