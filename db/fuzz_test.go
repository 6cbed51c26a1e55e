package db

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// FuzzFTSQuery: whatever a person types into a search box, the query built from it is valid FTS5 syntax
// (no error from the real index) and matches only through prefix terms.
func FuzzFTSQuery(f *testing.F) {
	d, err := Open(context.Background(), f.TempDir()+"/portier.db")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	for _, s := range []string{"", "drucker", "NEAR(a b)", `"unclosed`, "a AND OR NOT", "col:val", "{name}: x", "^start", "x*", "(((", "a-b_c.d@e",
		"ÄÖÜ ß", "\x00", "\xff", "- - -", strings.Repeat("w ", 50), "o1", "org:o1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := FTSQuery(s)
		if q == "" {
			return
		}
		for _, m := range []string{ftsMatch("name body", 1, q), ftsMatch("name body", 0, q)} {
			var n int
			if err := d.R.QueryRow(`SELECT count(*) FROM doc_fts WHERE doc_fts MATCH ?`, m).Scan(&n); err != nil {
				t.Fatalf("FTSQuery(%q) = %q: %v", s, m, err)
			}
		}
		if strings.Count(q, `"`)%2 != 0 || strings.ContainsAny(strings.ReplaceAll(q, `"`, ""), "(){}:^") {
			t.Fatalf("FTSQuery(%q) = %q carries syntax", s, q)
		}
	})
}

// FuzzDecodeFields: the fast reader of the fields column agrees with encoding/json on everything
// json.Marshal writes, and on anything else it either agrees or refuses.
func FuzzDecodeFields(f *testing.F) {
	for _, s := range []string{"{}", `{"a":"b"}`, `{"a":"b","c":"d"}`, `{"a":"\u003c"}`, `{"a":1}`, `{"a":"b"`, `{"a":"b",}`, `{"":""}`, "", "{", `{"a":"b"}x`, "{\"a\":\"\xff\"}", "{\"a\":\"\n\"}", "{\"\x01\":\"b\"}"} {
		f.Add(s, "k", "v")
	}
	f.Fuzz(func(t *testing.T, raw, k, v string) {
		m := map[string]string{k: v, "name": v + k}
		b, _ := json.Marshal(m)
		got, err := decodeFields(string(b))
		var want map[string]string
		_ = json.Unmarshal(b, &want)
		if err != nil || !maps.Equal(got, want) {
			t.Fatalf("%s: %v %v, want %v", b, got, err, want)
		}
		got, err = decodeFields(raw)
		var ref map[string]string
		if jerr := json.Unmarshal([]byte(raw), &ref); jerr != nil {
			if err == nil {
				t.Fatalf("%q: accepted what encoding/json refuses (%v): %v", raw, jerr, got)
			}
			return
		}
		if ref == nil {
			ref = map[string]string{}
		}
		if err != nil || !maps.Equal(got, ref) {
			t.Fatalf("%q: %v %v, encoding/json says %v", raw, got, err, ref)
		}
	})
}
