package docsapp

import (
	"strings"
	"testing"

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
		if len(chs) > MaxImportRows {
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

// A file full of bad rows is cut off at the row cap like a file full of good ones: the problems it collects
// stay bounded (a 3 MB file of short lines would otherwise collect over a million).
func TestImportProblemsAreBoundedByTheRowCap(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	en, de := b.For("en", ""), b.For("de", "")
	data := "name,notes\n" + strings.Repeat("x\n", 3*MaxImportRows)
	chs, problems := parseImport(docs.Configurations, 42, en, de, []byte(data))
	if len(chs) != 0 || len(problems) != MaxImportRows+1 {
		t.Fatalf("%d items, %d problems; want none and %d", len(chs), len(problems), MaxImportRows+1)
	}
	if last := problems[len(problems)-1]; last.Key != "docs.import.err_too_many" {
		t.Fatalf("last problem %q, want the row cap", last.Key)
	}
}

// A file without a header row: its first row is data and is not repeated back as column names.
func TestImportWithoutHeaderDoesNotEchoTheFirstRow(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	en, de := b.For("en", ""), b.For("de", "")
	_, problems := parseImport(docs.Passwords, 42, en, de, []byte("NAS,Geheim-4711-Marker\n"))
	for _, p := range problems {
		if strings.Contains(p.Column, "Geheim") || strings.Contains(p.Value, "Geheim") {
			t.Fatalf("the first row is echoed: %+v", p)
		}
	}
	if len(problems) != 1 || problems[0].Key != "docs.import.err_no_name" {
		t.Fatalf("problems %+v, want only the missing name column", problems)
	}
}
