package accounts

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidEmail reports whether s is a plain e-mail address (no display name, no angle brackets) of at most
// 254 bytes (RFC 5321's limit on a path). The web forms and the command line both use it.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s, "@")
}

// NameProblem returns the translation key of what is wrong with a name, or "": 1 to 100 characters of
// valid UTF-8, without control characters, line separators or bidirectional overrides (which would make
// the name read differently in the staff's lists).
func NameProblem(name string) string {
	if !utf8.ValidString(name) {
		return "setpw.name.invalid"
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "setpw.name.required"
	}
	if n > 100 {
		return "setpw.name.too_long"
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || (r >= 0x202A && r <= 0x202E) ||
			(r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0xFEFF {
			return "setpw.name.invalid"
		}
	}
	return ""
}
