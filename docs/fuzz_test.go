package docs

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAreaValidate sends arbitrary values for every field of every area (what a form or a CSV line can
// carry): Validate never panics, problems are translation keys, and what it accepts is stable (cleaning
// a cleaned value changes nothing) and valid UTF-8 without NUL bytes.
func FuzzAreaValidate(f *testing.F) {
	for _, s := range []string{"", "x", "Server-01", " 10.0.0.1, 10.0.0.0/8 ", "aa-bb-cc-dd-ee-ff", "2026-02-30", "ja",
		"65536", "4094", "jbsw y3dp ehpk 3pxp", "\x00", "a\r\nb", "\xff\xfe", "😀", strings.Repeat("ü", 201), "mailto:a@b", "1e400", "-1"} {
		f.Add(s, 0)
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, shift int) {
		for _, a := range Areas {
			values := map[string]string{}
			for i, fl := range a.Fields {
				// Different fields get different slices of the input, so combinations vary too.
				if cut := (i + shift) % (len(s) + 1); cut >= 0 {
					values[fl.Name] = s[cut:]
				}
			}
			clean, errs := a.Validate(values)
			for name, key := range errs {
				if !strings.HasPrefix(key, "docs.err.") {
					t.Fatalf("%s.%s: problem %q is not a translation key", a.Name, name, key)
				}
				if _, ok := clean[name]; ok {
					t.Fatalf("%s.%s: both cleaned and refused", a.Name, name)
				}
			}
			for name, v := range clean {
				fl, _ := a.Field(name)
				if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					t.Fatalf("%s.%s: accepted %q", a.Name, name, v)
				}
				again, e := fl.Clean(v)
				if e != "" || again != v {
					t.Fatalf("%s.%s: cleaning %q again gives %q, %q", a.Name, name, v, again, e)
				}
			}
		}
	})
}
