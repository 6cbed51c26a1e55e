package accounts

import (
	"strings"
	"testing"
)

func TestNameProblem(t *testing.T) {
	for name, want := range map[string]string{
		"Anna Beispiel": "", "Zoë O'Brien-Müller": "", "李小龍": "", strings.Repeat("a", 100): "",
		"": "setpw.name.required", strings.Repeat("a", 101): "setpw.name.too_long", "a\nb": "setpw.name.invalid",
		"a\u2028b": "setpw.name.invalid", "a\u2067b": "setpw.name.invalid", "\xc3": "setpw.name.invalid",
	} {
		if got := NameProblem(name); got != want {
			t.Errorf("NameProblem(%q) = %q, want %q", name, got, want)
		}
	}
}
