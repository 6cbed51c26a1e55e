package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzSafeNext: a next= parameter becomes either the fallback or a path on this site, never a way to
// another site (absolute URLs, //host, backslashes, control characters, schemes).
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/o/alpha", "//evil.example", "/\\evil.example", "https://evil.example/", "/x?next=//e", "javascript:alert(1)",
		"/%2F%2Fevil.example", "/\t/evil", "\x00/", "/ok#frag", "", strings.Repeat("/a", 1500), "/\u2028", "///x", "/..//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next, "/fallback")
		if got == "/fallback" {
			return
		}
		if got != next {
			t.Fatalf("safeNext changed %q into %q", next, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\x00\r\n\t") || len(got) > 2000 {
			t.Fatalf("safeNext(%q) let it through", next)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || u.User != nil {
			t.Fatalf("safeNext(%q): leads to host %q scheme %q", next, u.Host, u.Scheme)
		}
		// What a browser would make of it: the path resolved against our origin stays on our origin.
		base, _ := url.Parse("https://portal.example/")
		if r := base.ResolveReference(u); r.Host != "portal.example" {
			t.Fatalf("safeNext(%q) resolves to %s", next, r)
		}
	})
}

// FuzzSessionCodec: stored session data never makes decoding panic, and whatever values a session holds
// come back the same.
func FuzzSessionCodec(f *testing.F) {
	good, _ := sessionCodec{}.Encode(time.Unix(1e9, 0), map[string]any{keyUID: int64(5), keyNext: "/x", keyMFAOK: true, "count": 2})
	for _, b := range [][]byte{good, {}, sessionMagic, append(append([]byte{}, sessionMagic...), 0xFF), good[:len(good)-3], []byte("\x0f\xff\x81gob")} {
		f.Add(b, "key", "value", int64(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, k, v string, n int64) {
		_, _, _ = sessionCodec{}.Decode(data)
		values := map[string]any{k: v, k + "#n": n, k + "#b": n%2 == 0, k + "#i": int(n), k + "#raw": []byte(v)}
		enc, err := sessionCodec{}.Encode(time.Unix(n%1e10, 0), values)
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := sessionCodec{}.Decode(enc)
		if err != nil || len(got) != len(values) {
			t.Fatalf("round trip: %v %v", got, err)
		}
		if got[k] != v || got[k+"#n"] != n || got[k+"#i"] != int(n) || string(got[k+"#raw"].([]byte)) != v {
			t.Fatalf("round trip changed values: %v", got)
		}
	})
}

// FuzzInviteInput: the invitation form's address and name checks never panic and never let control
// characters, invalid UTF-8 or a display name through.
func FuzzInviteInput(f *testing.F) {
	for _, s := range []string{"anna@muster.example", "Anna <anna@muster.example>", "a@b", "a@b.", "\xff@b.example", "a\x00@b.example",
		"anna@müller.example", strings.Repeat("a", 250) + "@b.example", "a b@c.example", "\"a\"@b.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if inviteEmailOK(s) {
			if strings.ContainsAny(s, " <>,;\"\\") || strings.ContainsFunc(s, unicode.IsControl) || len(s) > 254 || !strings.Contains(s, "@") {
				t.Fatalf("address %q accepted", s)
			}
		}
		if peopleTextOK(s, 100) && strings.ContainsFunc(s, unicode.IsControl) {
			t.Fatalf("name %q accepted", s)
		}
	})
}
