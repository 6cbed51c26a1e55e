package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		raw, hash := NewToken()
		if len(raw) != 43 {
			t.Fatalf("token %q has length %d, want 43", raw, len(raw))
		}
		if strings.Trim(raw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("token %q outside the base64url alphabet", raw)
		}
		if b, err := base64.RawURLEncoding.DecodeString(raw); err != nil || len(b) != 32 {
			t.Fatalf("token %q does not decode to 32 bytes: %v", raw, err)
		}
		if seen[raw] {
			t.Fatalf("token %q repeated", raw)
		}
		seen[raw] = true
		want := sha256.Sum256([]byte(raw))
		if !bytes.Equal(hash, want[:]) {
			t.Fatal("hash is not SHA-256 of the raw token")
		}
		got, err := HashToken(raw)
		if err != nil || !bytes.Equal(got, hash) {
			t.Fatalf("HashToken(%q) = %x, %v; want %x", raw, got, err, hash)
		}
	}
}

func TestHashTokenRejects(t *testing.T) {
	good, _ := NewToken()
	// A canonical token ends in a character whose two low bits are zero (A, E, I, …).
	nonCanonical := good[:42] + "B"
	bad := []string{
		"",
		"x",
		good[:42],
		good + "A",
		good[:42] + "=",
		good[:41] + "==",
		good[:42] + "+",
		good[:42] + "/",
		good[:42] + " ",
		" " + good[:42],
		good[:20] + "." + good[21:],
		good[:20] + "\x00" + good[21:],
		good[:40] + "ä", // 43 bytes, not 43 characters of the alphabet
		nonCanonical,
		strings.Repeat("%", 43),
		"../../../../../../../../../../../etc/passwd",
	}
	for _, raw := range bad {
		if h, err := HashToken(raw); !errors.Is(err, ErrBadToken) || h != nil {
			t.Errorf("HashToken(%q) = %x, %v; want ErrBadToken", raw, h, err)
		}
	}
}

func TestNewCode6(t *testing.T) {
	const n = 20000
	var digitCount [6][10]int
	leadingZero := 0
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		c := NewCode6()
		if len(c) != 6 {
			t.Fatalf("code %q has length %d", c, len(c))
		}
		for pos := 0; pos < 6; pos++ {
			d := c[pos]
			if d < '0' || d > '9' {
				t.Fatalf("code %q has a non-digit", c)
			}
			digitCount[pos][d-'0']++
		}
		if c[0] == '0' {
			leadingZero++
		}
		seen[c]++
	}
	// Each digit at each position is expected n/10 = 2000 times; the standard deviation is
	// about 42, so 1700..2300 (over 7 sigma) fails only for a broken generator.
	for pos := range digitCount {
		for d, cnt := range digitCount[pos] {
			if cnt < 1700 || cnt > 2300 {
				t.Errorf("digit %d at position %d seen %d times of %d", d, pos, cnt, n)
			}
		}
	}
	if leadingZero == 0 {
		t.Error("no code with a leading zero: zeros are being dropped")
	}
	// 20000 draws from 10^6: about 200 collisions expected; far more means little entropy.
	if dup := n - len(seen); dup > 400 {
		t.Errorf("%d duplicate codes in %d", dup, n)
	}
}

func TestPad6(t *testing.T) {
	for v, want := range map[uint32]string{0: "000000", 7: "000007", 42042: "042042", 999999: "999999"} {
		if got := pad6(v); got != want {
			t.Errorf("pad6(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestHashCode(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, 32)
	k2 := bytes.Repeat([]byte{2}, 32)
	a := HashCode("012345", k1)
	if len(a) != 32 {
		t.Fatalf("HashCode length %d", len(a))
	}
	if !bytes.Equal(a, HashCode("012345", k1)) {
		t.Fatal("HashCode not deterministic")
	}
	if bytes.Equal(a, HashCode("012345", k2)) {
		t.Fatal("HashCode ignores the key: a code for one purpose would verify for another")
	}
	if bytes.Equal(a, HashCode("012346", k1)) {
		t.Fatal("different codes, same hash")
	}
	bare := sha256.Sum256([]byte("012345"))
	if bytes.Equal(a, bare[:]) {
		t.Fatal("HashCode is a bare SHA-256")
	}
	if !VerifyCode("012345", k1, a) {
		t.Error("VerifyCode(right code) = false")
	}
	for _, c := range []string{"012346", "12345", "0123456", "01234a", "", "０１２３４５"} {
		if VerifyCode(c, k1, a) {
			t.Errorf("VerifyCode(%q) = true", c)
		}
	}
	if VerifyCode("012345", k2, a) {
		t.Error("VerifyCode with another purpose key = true")
	}
	defer func() {
		if recover() == nil {
			t.Error("HashCode with a short key did not panic")
		}
	}()
	HashCode("012345", []byte("short"))
}

func FuzzHashToken(f *testing.F) {
	good, _ := NewToken()
	f.Add(good)
	f.Add("")
	f.Add(good[:42] + "B")
	f.Add(good[:42] + "=")
	f.Add(strings.Repeat("\xff", 43))
	f.Add(strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, raw string) {
		h, err := HashToken(raw)
		if err != nil {
			if !errors.Is(err, ErrBadToken) || h != nil {
				t.Fatalf("HashToken(%q) = %x, %v", raw, h, err)
			}
			return
		}
		if len(raw) != TokenLen || len(h) != sha256.Size {
			t.Fatalf("accepted %q (len %d), hash len %d", raw, len(raw), len(h))
		}
		b, derr := base64.RawURLEncoding.DecodeString(raw)
		if derr != nil || base64.RawURLEncoding.EncodeToString(b) != raw {
			t.Fatalf("accepted a non-canonical token %q", raw)
		}
	})
}
