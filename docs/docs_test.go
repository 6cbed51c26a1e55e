package docs

import (
	"strings"
	"testing"
)

func TestFieldValidation(t *testing.T) {
	f := func(area *Area, name string) Field {
		fl, ok := area.Field(name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		return fl
	}
	cases := []struct {
		field    Field
		in, want string
		err      string
	}{
		{f(Contacts, "name"), "  Anna  ", "Anna", ""},
		{f(Contacts, "name"), "", "", "docs.err.required"},
		{f(Contacts, "name"), strings.Repeat("x", 201), "", "docs.err.too_long"},
		{f(Contacts, "name"), "bad\xffutf8", "", "docs.err.utf8"},
		{f(Contacts, "name"), "nul\x00byte", "", "docs.err.control"},
		{f(Contacts, "name"), "<script>alert(1)</script>", "<script>alert(1)</script>", ""},
		{f(Contacts, "email"), "anna@muster.de", "anna@muster.de", ""},
		{f(Contacts, "email"), "Anna <anna@muster.de>", "", "docs.err.email"},
		{f(Contacts, "email"), "anna@localhost", "", "docs.err.email"},
		{f(Contacts, "phone"), "+49 (30) 123-456", "+49 (30) 123-456", ""},
		{f(Contacts, "phone"), "call me", "", "docs.err.phone"},
		{f(Contacts, "primary"), "on", "1", ""},
		{f(Contacts, "primary"), "maybe", "", "docs.err.bool"},
		{f(Configurations, "ip"), "10.0.0.1, 192.168.1.0/24 ::1", "10.0.0.1, 192.168.1.0/24, ::1", ""},
		{f(Configurations, "ip"), "10.0.0.300", "", "docs.err.ip"},
		{f(Configurations, "mac"), "aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", ""},
		{f(Configurations, "mac"), "aa:bb:cc", "", "docs.err.mac"},
		{f(Configurations, "warranty_end"), "2027-02-30", "", "docs.err.date"},
		{f(Configurations, "warranty_end"), "2027-02-28", "2027-02-28", ""},
		{f(Configurations, "kind"), "toaster", "", "docs.err.option"},
		{f(Passwords, "url"), "javascript:alert(1)", "", "docs.err.url"},
		{f(Passwords, "url"), "https://portal.example.com/login", "https://portal.example.com/login", ""},
		{f(Passwords, "totp"), "jbsw y3dp ehpk 3pxp", "JBSWY3DPEHPK3PXP", ""},
		{f(Passwords, "totp"), "not-base32!", "", "docs.err.totp"},
		{f(VPN, "port"), "51820", "51820", ""},
		{f(VPN, "port"), "99999", "", "docs.err.port"},
		{f(VPN, "port"), "99999999999999999999999", "", "docs.err.port"},
		{f(Wireless, "vlan"), "4095", "", "docs.err.vlan"},
		{f(VPN, "config"), "[Interface]\r\nPrivateKey = x\n", "[Interface]\nPrivateKey = x\n", ""},
	}
	for _, c := range cases {
		got, err := c.field.Clean(c.in)
		if got != c.want || err != c.err {
			t.Errorf("%s(%q) = %q, %q; want %q, %q", c.field.Name, c.in, got, err, c.want, c.err)
		}
	}
}

func TestAreasAreWellFormed(t *testing.T) {
	for _, a := range Areas {
		if f, ok := a.Field("name"); !ok || !f.Required {
			t.Errorf("%s: no required name", a.Name)
		}
		seen := map[string]bool{}
		for _, f := range a.Fields {
			if seen[f.Name] {
				t.Errorf("%s: %s twice", a.Name, f.Name)
			}
			seen[f.Name] = true
			if f.Kind == Enum && len(f.Options) == 0 {
				t.Errorf("%s.%s: enum without options", a.Name, f.Name)
			}
		}
		if got, ok := ByName(a.Name); !ok || got != a {
			t.Errorf("ByName(%s)", a.Name)
		}
	}
	clean, errs := Wireless.Validate(map[string]string{"name": "Gast", "security": "wpa2", "guest": "on", "vlan": "abc"})
	if errs["vlan"] != "docs.err.vlan" || clean["guest"] != "1" || len(errs) != 1 {
		t.Fatalf("validate: %v %v", clean, errs)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "a", "10.0.0.1", "aa:bb:cc:dd:ee:ff", "2026-01-01", "\xff", "https://x.y", "JBSWY3DP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range Areas {
			for _, fl := range a.Fields {
				v, e := fl.Clean(s)
				if e == "" && fl.Required && v == "" {
					t.Fatalf("%s: required field accepted empty", fl.Name)
				}
			}
		}
	})
}

// Dates as German users and spreadsheets write them are accepted and stored in one form; days that do
// not exist are refused.
func TestDateAcceptsGermanAndISO(t *testing.T) {
	f := Field{Name: "warranty_end", Kind: Date}
	for in, want := range map[string]string{"31.03.2027": "2027-03-31", "1.4.2027": "2027-04-01", "2027-03-31": "2027-03-31", " 29.02.2028 ": "2028-02-29"} {
		if got, e := f.Clean(in); e != "" || got != want {
			t.Errorf("Clean(%q) = %q, %q; want %q", in, got, e, want)
		}
	}
	for _, in := range []string{"31.02.2027", "2027-3-31", "31/03/2027", "03.31.2027", "2027-02-30", "31.03.27"} {
		if _, e := f.Clean(in); e != "docs.err.date" {
			t.Errorf("Clean(%q) accepted (%q)", in, e)
		}
	}
}

// A number keeps a form that reads back as the same number and fits a value's length, however large or
// small: 1e308 written out would be 309 digits, and an export could not be imported again.
func TestNumbersStayShortEnoughToImportAgain(t *testing.T) {
	f := Field{Name: "n", Kind: Number}
	for in, want := range map[string]string{"12,5": "12.5", "1e308": "1e+308", "-2.5e-300": "-2.5e-300", "123456789012": "123456789012"} {
		got, key := f.Clean(in)
		if key != "" || got != want {
			t.Errorf("%s: %q %q, want %q", in, got, key, want)
		}
		if again, key := f.Clean(got); key != "" || again != got {
			t.Errorf("%s: cleaning %q again gave %q %q", in, got, again, key)
		}
	}
}
