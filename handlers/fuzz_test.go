package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"portier/docs"
	"portier/i18n"
)

// FuzzParseImport feeds the CSV importer arbitrary files: it never panics, returns either items or
// problems (never both), and every item it would store is valid for its area and stays in the
// organisation it was imported into.
func FuzzParseImport(f *testing.F) {
	b, err := i18n.Load()
	if err != nil {
		f.Fatal(err)
	}
	en, de := b.For("en", ""), b.For("de", "")
	for _, s := range []string{
		"name,kind,ip\nFW-01,firewall,10.0.0.1\n",
		"\ufeffName;Art;IP-Adresse\nSRV-01;Server;10.0.0.2\n",
		"name,password\nNAS,geheim\n",
		"name,name\na,b\n", "kind\nserver\n", "", "\n\n\n", "name\n\"unclosed\n", "name,notes\n'=SUM(A1),x\n",
		"name,kind\na,server,extra\n", "name\n\xff\n", "name,ip\nx,999.1.1.1\n", "name,kind\nx,\x00\n", "name\r\nx\r\n",
	} {
		f.Add(s, 0)
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, data string, areaIdx int) {
		area := docs.Areas[(areaIdx%len(docs.Areas)+len(docs.Areas))%len(docs.Areas)]
		chs, problems := parseImport(area, 42, en, de, []byte(data))
		if len(chs) > 0 && len(problems) > 0 {
			t.Fatalf("both items and problems")
		}
		if len(chs) > maxImportRows {
			t.Fatalf("%d items", len(chs))
		}
		for _, p := range problems {
			if !strings.HasPrefix(p.Key, "docs.") || en.T(p.Key) == p.Key {
				t.Fatalf("problem key %q has no text", p.Key)
			}
		}
		for _, ch := range chs {
			if ch.OrgID != 42 || ch.Area != area.Name || ch.Name == "" || ch.StaffOnly {
				t.Fatalf("item %+v", ch)
			}
			for name, v := range ch.Fields {
				fl, ok := area.Field(name)
				if again, e := fl.Clean(v); !ok || fl.IsSecret() || e != "" || again != v {
					t.Fatalf("field %s=%q stored unclean", name, v)
				}
			}
			for name := range ch.Secrets {
				if fl, ok := area.Field(name); !ok || !fl.IsSecret() {
					t.Fatalf("secret %s is no secret field", name)
				}
			}
		}
	})
}

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
