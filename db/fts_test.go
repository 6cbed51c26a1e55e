package db

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestFullTextIndexesMergeEagerly: both full-text indexes merge two segments of a level (migration
// 0034), so a search reads few segments per typed word.
func TestFullTextIndexesMergeEagerly(t *testing.T) {
	d := openTemp(t)
	for _, table := range []string{"doc_fts_config", "article_fts_config"} {
		var v int
		if err := d.R.QueryRowContext(context.Background(), `SELECT v FROM `+table+` WHERE k = 'automerge'`).Scan(&v); err != nil || v != 2 {
			t.Errorf("%s: automerge %d, %v", table, v, err)
		}
	}
}

// TestSearchTermsHitsAsTheWordsSplit: Hits walks the words of a value without building their list; it
// answers as the split into words (searchWords) does.
func TestSearchTermsHitsAsTheWordsSplit(t *testing.T) {
	viaWords := func(value string, terms SearchTerms) bool {
		vw := searchWords(value)
		return slices.ContainsFunc(terms, func(w string) bool {
			return slices.ContainsFunc(vw, func(n string) bool { return strings.HasPrefix(n, w) })
		})
	}
	values := []string{"", "Lenovo ThinkPad T14", "fw-01.büro.example", "Müller, Jürgen", "ÄRGER im Büro\nzweite Zeile",
		"admin@muster.de", "192.168.0.1", "x", "  Router  ", "Straße 5", "日本語 テスト", "a-b_c.d", "ThinkPad"}
	typed := []string{"len", "LENOVO", "büro", "buro", "muller", "ärg", "zeile", "192", "168.0", "ro", "strasse", "日本", "b_c", "pad", "t14 x", ""}
	for _, v := range values {
		for _, q := range typed {
			terms := NewSearchTerms(q)
			if got, want := terms.Hits(v), viaWords(v, terms); got != want {
				t.Errorf("Hits(%q) for %q = %v, the words say %v", v, q, got, want)
			}
		}
	}
	if !NewSearchTerms("büro").Hits("fw-01.BÜRO.example") || NewSearchTerms("pad").Hits("ThinkPad") {
		t.Error("a typed word must begin a word of the value")
	}
}
