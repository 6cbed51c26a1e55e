// Package views holds the templ components. Components are fed typed view models built by the handlers;
// they make no decisions of their own beyond showing what they are given. Texts come from i18n through the
// localizer in the context.
package views

import (
	"context"
	"strconv"
	"strings"

	"portier/i18n"
)

// MSP is what the page shell shows about the service provider.
type MSP struct {
	Name         string
	SupportEmail string
	SupportPhone string
	LogoURL      string // the uploaded logo (content-hashed), "" for none
}

// Assets are the URLs of the static files (content-hashed names).
type Assets struct {
	Pico, App, HTMX, Icon, Copy string
}

// Shell is what every full page needs around its content.
type Shell struct {
	Title  string // already localized
	MSP    MSP
	Assets Assets
	Lang   string
	Theme  string // "", "light" or "dark"; "" follows the system
	Path   string // the current path and query, to come back to after switching language or theme
	User   *ShellUser
}

// ShellUser is the signed-in person as the header shows them.
type ShellUser struct {
	Name     string
	IsStaff  bool
	OrgName  string // the organisation being looked at, if any
	OrgSlug  string
	MultiOrg bool // may switch organisations
	Complete bool // finished the first-login steps: the menu links work
}

// HTMXConfig configures htmx through its meta tag: no eval (our CSP forbids it), no inline indicator styles
// (CSP again), no history snapshots in localStorage (pages may hold secrets), and error responses are
// swapped too: 422 forms show their validation messages, 409 the "changed meanwhile" notice, other errors
// their localized fragment — never silence.
const HTMXConfig = `{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"selfRequestsOnly":true,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true,"error":true}]}`

// tn renders a count with the language's plural rules (key.one, key.other, …); see i18n.Localizer.N.
func tn(ctx context.Context, key string, n int, args ...any) string {
	return i18n.From(ctx).N(key, n, args...)
}

func t(ctx context.Context, key string, args ...any) string {
	return i18n.From(ctx).T(key, args...)
}

func lang(ctx context.Context) string { return i18n.From(ctx).Lang }

var languages = i18n.Languages

func itoa(n int) string { return strconv.Itoa(n) }

// TelHref keeps only what a tel: link may hold: digits and a leading plus.
func TelHref(phone string) string {
	var b strings.Builder
	for i, r := range phone {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
