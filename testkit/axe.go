package testkit

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// axe-core 4.14 (npm axe-core, MPL-2.0), vendored for accessibility checks of rendered pages.
//
//go:embed axe.min.js
var axeSource string

// AxeViolation is one accessibility rule a page breaks.
type AxeViolation struct {
	ID          string `json:"id"`
	Impact      string `json:"impact"`
	Description string `json:"description"`
	Nodes       []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// Axe runs axe-core's WCAG 2.1 A and AA rules on the current page and fails the test for every violation
// of impact "serious" or "critical", naming the rule and the elements. It is injected through the DevTools
// protocol, so the page's CSP does not block it.
func (b *BrowserT) Axe() {
	b.t.Helper()
	for _, v := range b.AxeViolations() {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, strings.Join(toStrings(n.Target), " "))
		}
		b.t.Errorf("accessibility (%s, %s) on %s: %s — %s", v.ID, v.Impact, b.Location(), v.Description, strings.Join(targets, "; "))
	}
}

// AxeViolations returns the serious and critical violations of the current page without failing.
func (b *BrowserT) AxeViolations() []AxeViolation {
	b.t.Helper()
	if !Eval[bool](b, `typeof window.axe !== "undefined"`) {
		Eval[bool](b, axeSource+";true")
	}
	raw := Eval[string](b, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => JSON.stringify(r.violations))`)
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("testkit: axe result: %v", err)
	}
	serious := vs[:0]
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			serious = append(serious, v)
		}
	}
	return serious
}

func toStrings(xs []any) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
