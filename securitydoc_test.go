package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs/security.md names, for each rule, the place that enforces it and the tests that prove it. This test
// keeps that page true: every test it names exists, every Go name it names (with a capital letter, or called
// like a function) is declared somewhere, and every file path it names is in the tree.
func TestSecurityDocNamesWhatExists(t *testing.T) {
	doc, err := os.ReadFile("docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	var src, tests strings.Builder
	err = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != "." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_templ.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, "_test.go") {
			tests.Write(b)
		}
		src.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, testCode := src.String(), tests.String()
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(string(doc), -1) {
		tok := m[1]
		switch {
		case regexp.MustCompile(`^Test[A-Z]\w*$`).MatchString(tok):
			if !strings.Contains(testCode, "func "+tok+"(") {
				t.Errorf("docs/security.md names %s, which no test file declares", tok)
			}
		case regexp.MustCompile(`^[\w./-]+\.(go|js|sql)$`).MatchString(tok):
			if _, err := os.Stat(tok); err != nil {
				t.Errorf("docs/security.md names the file %s: %v", tok, err)
			}
		case regexp.MustCompile(`^(\w+\.)?[A-Za-z_]\w*$`).MatchString(tok):
			name := tok[strings.LastIndex(tok, ".")+1:]
			if strings.ToLower(name) == name {
				continue // a lower-case word is as often a claim, a package or a column as a Go name
			}
			decl := regexp.MustCompile(`(func (\([^)]*\) )?` + name + `[\[(]|type ` + name + `\b|\n\t` + name + `\b|var ` + name + `\b|const ` + name + `\b)`)
			if !decl.MatchString(code) {
				t.Errorf("docs/security.md names %s, which nothing declares", tok)
			}
		}
	}
}
