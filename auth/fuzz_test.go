package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParsePHC feeds stored hash strings as a tampered or damaged database row could hold them: parsing
// never panics, refuses with ErrInvalidHash, and what it accepts is within the bounds (so a row cannot make
// a sign-in allocate gigabytes) and reads back the same when written again.
func FuzzParsePHC(f *testing.F) {
	h := NewHasher(1)
	good, err := h.Hash(f.Context(), "Zugang-Sicher#2026")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "$argon2id$v=19$m=19456,t=2,p=1$$", strings.Replace(good, "m=19456", "m=4294967295", 1),
		strings.Replace(good, "v=19", "v=16", 1), strings.Replace(good, "t=2", "t=02", 1), strings.Replace(good, "p=1", "p=-1", 1),
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5", good + "$", good + "=", strings.Repeat("$", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("parsePHC(%q): error %v is not ErrInvalidHash", s, err)
			}
			return
		}
		if err := p.validate(); err != nil || p.Memory > maxMemory || p.Time > maxTime {
			t.Fatalf("parsePHC(%q) accepted %+v", s, p)
		}
		p2, salt2, key2, err := parsePHC(encodePHC(p, salt, key))
		if err != nil || p2 != p || !bytes.Equal(salt, salt2) || !bytes.Equal(key, key2) {
			t.Fatalf("%q does not read back: %+v %v", s, p2, err)
		}
	})
}

// FuzzVerifyCode: a typed code is checked without panicking and only six ASCII digits can ever match.
func FuzzVerifyCode(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	stored := HashCode("012345", key)
	for _, s := range []string{"012345", "12345", "0123456", "٠١٢٣٤٥", "01234\x00", " 012345", "abcdef", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		if VerifyCode(code, key, stored) != (code == "012345") {
			t.Fatalf("VerifyCode(%q) wrong", code)
		}
	})
}
