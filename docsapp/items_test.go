package docsapp

import (
	"strings"
	"testing"
)

// A generated password has 20 characters, no look-alikes, and one of every class, so any composition rule
// on the target system is met.
func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := generatePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 20 || strings.ContainsAny(p, "lIO01") || seen[p] {
			t.Fatalf("password %q", p)
		}
		for _, class := range []string{"abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=?@_"} {
			if !strings.ContainsAny(p, class) {
				t.Fatalf("password %q lacks one of %q", p, class)
			}
		}
		seen[p] = true
	}
}
