package auth

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func keys(rules []Rule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.Key)
	}
	return out
}

func TestParsePolicy(t *testing.T) {
	for name, want := range map[string]string{"default": "default", "nist": "nist", "NIST": "nist", " Default ": "default"} {
		p, err := ParsePolicy(name)
		if err != nil || p.Name != want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %s", name, p, err, want)
		}
	}
	for _, name := range []string{"", "strict", "nist2", "defaults"} {
		_, err := ParsePolicy(name)
		if !errors.Is(err, ErrUnknownPolicy) {
			t.Errorf("ParsePolicy(%q) err = %v, want ErrUnknownPolicy", name, err)
			continue
		}
		if !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("ParsePolicy(%q) error %q does not quote the value", name, err)
		}
	}
}

func TestRules(t *testing.T) {
	d := DefaultPolicy()
	if got, want := keys(d.Rules()), []string{LengthKey, UpperKey, DigitKey, SpecialKey, CommonKey, PersonalKey, MaxKey}; !slices.Equal(got, want) {
		t.Errorf("default rules = %v, want %v", got, want)
	}
	if got := d.Rules()[0].Args["min"]; got != 8 {
		t.Errorf("default min = %v, want 8", got)
	}
	n := NISTPolicy()
	if got, want := keys(n.Rules()), []string{LengthKey, CommonKey, PersonalKey, MaxKey}; !slices.Equal(got, want) {
		t.Errorf("nist rules = %v, want %v", got, want)
	}
	if got := n.Rules()[0].Args["min"]; got != 12 {
		t.Errorf("nist min = %v, want 12", got)
	}
	for _, p := range []Policy{d, n} {
		r := p.Rules()
		if got := r[len(r)-1].Args["max"]; got != 1024 {
			t.Errorf("%s max = %v, want 1024", p.Name, got)
		}
	}
	// MinLength is a field.
	n.MinLength = 15
	if got := n.Rules()[0].Args["min"]; got != 15 {
		t.Errorf("nist with MinLength 15: min = %v", got)
	}
	if r := n.Check("kiwi tree blue", Personal{}); r.OK() {
		t.Error("14 characters accepted with MinLength 15")
	}
	// A zero MaxBytes means the hard limit.
	z := Policy{}.Rules()
	if got := z[len(z)-1].Args["max"]; got != MaxPasswordBytes {
		t.Errorf("zero policy max = %v", got)
	}
}

var testPersonal = Personal{
	Email: []string{"max.mustermann@example-firma.de"},
	Name:  []string{"Max Mustermann"},
	Org:   []string{"Beispiel Versicherung GmbH"},
}

type policyCase struct {
	pw       string
	personal Personal
	unmet    []string // exactly these rule keys unmet; nil = OK
}

func runPolicyCases(t *testing.T, p Policy, cases []policyCase) {
	t.Helper()
	for _, c := range cases {
		res := p.Check(c.pw, c.personal)
		got := keys(res.Unmet())
		want := c.unmet
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Check(%q) unmet = %v, want %v", p.Name, c.pw, got, want)
		}
		if res.OK() != (len(want) == 0) {
			t.Errorf("%s: Check(%q).OK() = %v", p.Name, c.pw, res.OK())
		}
		if len(res.Rules) != len(p.Rules()) {
			t.Errorf("%s: Check(%q) reports %d rules, policy has %d", p.Name, c.pw, len(res.Rules), len(p.Rules()))
		}
	}
}

func u(keys ...string) []string { return keys }

func TestDefaultPolicy(t *testing.T) {
	long := strings.Repeat("Xy7!Qz", 171) // 1026 bytes
	runPolicyCases(t, DefaultPolicy(), []policyCase{
		// Composition and length (seed 003).
		{"Tulpe7!x", Personal{}, nil},
		{"Ärger-Über-Straße9", Personal{}, nil},
		{"Kiwi Tree 7", Personal{}, nil}, // a space is a special character
		{"Tul7!xQ", Personal{}, u(LengthKey)},
		{"kiwi-tree-7", Personal{}, u(UpperKey)},
		{"Kiwi-Tree!", Personal{}, u(DigitKey)},
		{"KiwiTree77", Personal{}, u(SpecialKey)},
		{"kiwitree", Personal{}, u(UpperKey, DigitKey, SpecialKey)},
		// Unicode: characters are code points; upper case is unicode.IsUpper.
		{"Größe1!x", Personal{}, nil},                   // 8 code points, 10 bytes
		{"Grö1!x", Personal{}, u(LengthKey)},            // 6 code points, 7 bytes
		{"über-größe-9É", Personal{}, nil},              // É is upper case
		{"Ölmühle-Straße-٣", Personal{}, nil},           // Arabic-Indic three is a digit
		{"A\u0308rgerHaus9", Personal{}, u(SpecialKey)}, // a combining diaeresis is not special
		{"Пароль-Зимний-7", Personal{}, nil},            // Cyrillic
		// Common passwords that pass composition.
		{"P@ssw0rd", Personal{}, u(CommonKey)},
		{"Passw0rd!", Personal{}, u(CommonKey)},
		{"Welcome1!", Personal{}, u(CommonKey)},
		{"Sommer2025!", Personal{}, u(CommonKey)},
		{"Sommer2024!", Personal{}, u(CommonKey)},
		{"Winter2031#", Personal{}, u(CommonKey)}, // year not on the list: stripped
		{"Passwort1!", Personal{}, u(CommonKey)},
		{"Hallo123!", Personal{}, u(CommonKey)},
		{"PASSWORT-2024", Personal{}, u(CommonKey)},
		{"!Password1", Personal{}, u(CommonKey)},
		{"P4$$w0rd!", Personal{}, u(CommonKey)},
		{"Qwertz123!", Personal{}, u(CommonKey)},
		{"Qwertzuiop1!", Personal{}, u(CommonKey)},
		{"1Qaz2wsx!", Personal{}, u(CommonKey)},
		{"Willkommen1!", Personal{}, u(CommonKey)},
		{"Januar2026!", Personal{}, u(CommonKey)},
		{"Fussball1!", Personal{}, u(CommonKey)},
		{"Schalke04!", Personal{}, u(CommonKey)},
		{"Admin123!", Personal{}, u(CommonKey)},
		{"Changeme1!", Personal{}, u(CommonKey)},
		{"PasswordPassword1!", Personal{}, u(CommonKey)}, // repetition of a listed word
		{"Aaaaaaaa1!", Personal{}, u(CommonKey)},         // one repeated letter
		{"Abcdefgh1!", Personal{}, u(CommonKey)},
		{"Wxyz1234!", Personal{}, u(CommonKey)},
		{"Abcabcabc1!", Personal{}, u(CommonKey)},
		// Personal data.
		{"Mustermann2024!", testPersonal, u(PersonalKey)},
		{"mUSTERMANN-1!", testPersonal, u(PersonalKey)},
		{"Mu$term@nn99", testPersonal, u(PersonalKey)}, // leetspeak
		{"M@x.Mustermann1", testPersonal, u(PersonalKey)},
		{"MaxMustermann#1", testPersonal, u(PersonalKey)},                      // joined name
		{"Max!2024", testPersonal, u(CommonKey, PersonalKey)},                  // "max" is also a common password
		{"Ida!2024", Personal{Name: []string{"Ida Kowalski"}}, u(PersonalKey)}, // a 3-letter name part, alone
		{"Idas-Garten-2024", Personal{Name: []string{"Ida Kowalski"}}, nil},
		{"Mustermann!Haus7", testPersonal, u(PersonalKey)},         // 10 of 14 letters
		{"Example-Firma9", testPersonal, u(PersonalKey)},           // e-mail domain without TLD
		{"Firma!Bank7", testPersonal, u(PersonalKey)},              // "firma": 5 of 9 letters
		{"Versicherung#1", testPersonal, u(PersonalKey)},           // organisation
		{"Beispiel-Versicherung-1", testPersonal, u(PersonalKey)},  // organisation joined
		{"Mustermann-liebt-Katzen-und-Hunde-7", testPersonal, nil}, // 10 of 29 letters
		{"Maximal-Wolkig-7", testPersonal, nil},                    // "max" only counts alone
		{"Firma-Sonnenblume-Wald-7", testPersonal, nil},            // 5 of 20 letters
		{"Gmbh-Lampe-Tisch-7", testPersonal, nil},                  // legal forms do not count
		{"Mustermann2024!", Personal{}, nil},                       // nobody's name here
		{"Jürgen1990!", Personal{Name: []string{"Jürgen Größe"}}, u(PersonalKey)},
		{"Größe-Jürgen-1!", Personal{Name: []string{"Jürgen Größe"}}, u(PersonalKey)},
		{"Li-Wu-Blume-27!", Personal{Name: []string{"Li Wu"}}, nil}, // parts under 3 characters ignored
		{"Kanzlei-Schulz7!", Personal{Email: []string{"info@schulz-kanzlei.de"}}, u(PersonalKey)},
		// Both.
		{"Sommer2025", Personal{}, u(SpecialKey, CommonKey)},
		// Length limits.
		{long, Personal{}, u(MaxKey)},
		{"", Personal{}, u(LengthKey, UpperKey, DigitKey, SpecialKey, CommonKey, PersonalKey)},
	})
}

func TestNISTPolicy(t *testing.T) {
	runPolicyCases(t, NISTPolicy(), []policyCase{
		{"correct horse battery staple", Personal{}, nil},
		{"kiwitreeblue", Personal{}, nil}, // no composition rules
		{"Ärger-Über-Straße9", Personal{}, nil},
		{"kiwitreebl", Personal{}, u(LengthKey)},
		{"P@ssw0rd", Personal{}, u(LengthKey, CommonKey)},
		{"Passw0rd!", Personal{}, u(LengthKey, CommonKey)},
		{"Welcome1!", Personal{}, u(LengthKey, CommonKey)},
		{"Sommer2025!!!", Personal{}, u(CommonKey)},
		{"passwordpassword", Personal{}, u(CommonKey)},
		{"qwertzuiopü", Personal{}, u(LengthKey, CommonKey)},
		{"qwertzuiop123456", Personal{}, u(CommonKey)},
		{"aaaaaaaaaaaaaaaa", Personal{}, u(CommonKey)},
		{"abababababababab", Personal{}, u(CommonKey)},
		{"abcdefghijklmnop", Personal{}, u(CommonKey)},
		{"123456789012", Personal{}, u(CommonKey)}, // digits wrap around
		{"123123123123", Personal{}, u(CommonKey)},
		{"mustermann-2024", testPersonal, u(PersonalKey)},
		{"maxmustermann!!", testPersonal, u(PersonalKey)},
		{"mustermann liebt katzen und hunde", testPersonal, nil},
		{strings.Repeat("ä", 513), Personal{}, u(CommonKey, MaxKey)},
		{strings.Repeat("wolke", 205), Personal{}, u(MaxKey)}, // 1025 bytes
		{"", Personal{}, u(LengthKey, CommonKey, PersonalKey)},
	})
}

func TestCheckResultShape(t *testing.T) {
	res := DefaultPolicy().Check("kiwi", Personal{})
	want := []RuleResult{
		{Rule{LengthKey, map[string]any{"min": 8}}, false},
		{Rule{UpperKey, nil}, false},
		{Rule{DigitKey, nil}, false},
		{Rule{SpecialKey, nil}, false},
		{Rule{CommonKey, nil}, true},
		{Rule{PersonalKey, nil}, true},
		{Rule{MaxKey, map[string]any{"max": 1024}}, true},
	}
	if !reflect.DeepEqual(res.Rules, want) {
		t.Errorf("Check(kiwi).Rules = %+v\nwant %+v", res.Rules, want)
	}
	if res.OK() || len(res.Unmet()) != 4 {
		t.Errorf("OK = %v, Unmet = %v", res.OK(), res.Unmet())
	}
	if MatchKey != "password.rule.match" {
		t.Error("MatchKey changed")
	}
}

func TestStrength(t *testing.T) {
	d := DefaultPolicy()
	for pw, want := range map[string]int{
		"":                                    0,
		"Tul7!x":                              0, // short
		"P@ssw0rd":                            0, // blocked
		"Welcome1!":                           0,
		"tulpenzwiebel":                       2, // 13, one class
		"Tulpe7!x":                            2, // 8, four classes
		"kiwitreebl":                          1,
		"Ärger-Über-Straße9":                  4,
		"correct horse battery staple":        4,
		"Mustermann-liebt-Katzen-und-Hunde-7": 4,
	} {
		res := d.Check(pw, Personal{})
		if res.Strength != want {
			t.Errorf("Strength(%q) = %d, want %d", pw, res.Strength, want)
		}
		if res.StrengthKey() != StrengthKey(want) {
			t.Errorf("StrengthKey(%q) = %q", pw, res.StrengthKey())
		}
	}
	if d.Check("Mustermann2024!", testPersonal).Strength != 0 {
		t.Error("a password built from the name is not rated 0")
	}
	if StrengthKey(3) != "password.strength.3" || StrengthKey(9) != "password.strength.4" || StrengthKey(-1) != "password.strength.0" {
		t.Error("StrengthKey")
	}
}

func TestBlocklistLoaded(t *testing.T) {
	if len(blocklist) < 1000 {
		t.Fatalf("blocklist has %d entries, want at least 1000", len(blocklist))
	}
	for _, w := range []string{"password", "passwort", "hallo", "sommer", "welcome", "qwertz", "123456", "1qay2wsx"} {
		if !blocked(w) {
			t.Errorf("%q not on the blocklist", w)
		}
	}
	for w := range blocklist {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w || !utf8.ValidString(w) {
			t.Errorf("blocklist entry %q not normalised", w)
		}
	}
}

func TestPersonalParts(t *testing.T) {
	got := personalParts(Personal{
		Email: []string{"Max.Mustermann+news@mail.example-firma.co.uk", "no-at-sign"},
		Name:  []string{"Dr. Li Wu-Ng"},
		Org:   []string{"Müller & Söhne GmbH & Co. KG"},
	})
	want := []string{"max", "mustermann", "news", "maxmustermannnews", "mail", "example", "firma",
		"examplefirma", "sign", "noatsign", "drliwung", "müller", "söhne", "müllersöhne"}
	if !slices.Equal(got, want) {
		t.Errorf("personalParts = %q\nwant %q", got, want)
	}
}

func FuzzPolicyCheck(f *testing.F) {
	f.Add("P@ssw0rd", "max.mustermann@example-firma.de", "Max Mustermann", "Beispiel GmbH")
	f.Add("Ärger-Über-Straße9", "", "", "")
	f.Add("", "@", "a", "GmbH")
	f.Add("\xff\xfe1!A", "\xff@\xff.\xff", "\xff", "\xff")
	f.Add("A\u0308rger", "x@y", "Jürgen Größe", "Müller & Söhne")
	f.Add(strings.Repeat("ab", 600), "ab@ab.ab", "ab", "ab")
	policies := []Policy{DefaultPolicy(), NISTPolicy(), {}}
	f.Fuzz(func(t *testing.T, pw, email, name, org string) {
		personal := Personal{Email: []string{email}, Name: []string{name}, Org: []string{org}}
		for _, p := range policies {
			res := p.Check(pw, personal)
			if len(res.Rules) != len(p.Rules()) {
				t.Fatalf("%d results for %d rules", len(res.Rules), len(p.Rules()))
			}
			if res.Strength < 0 || res.Strength > 4 {
				t.Fatalf("strength %d", res.Strength)
			}
			if res.OK() != (len(res.Unmet()) == 0) {
				t.Fatal("OK and Unmet disagree")
			}
			if len(pw) > MaxPasswordBytes && res.OK() {
				t.Fatal("over-long password accepted")
			}
			if !reflect.DeepEqual(res, p.Check(pw, personal)) {
				t.Fatal("Check is not deterministic")
			}
		}
	})
}

// Generated passwords and passphrases must not trip the blocklist or personal rules: the
// normalisations (leetspeak, stripping, repetition, sequences) must not produce false positives.
func TestNoFalsePositives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%&*-_+=?"
	words := []string{"wolke", "tisch", "lampe", "garten", "fenster", "blau", "kiesel", "anker",
		"möwe", "brücke", "zucker", "regen", "ofen", "tanne", "kompass", "leiter", "seil", "uhr"}
	d, n := DefaultPolicy(), NISTPolicy()
	for i := 0; i < 5000; i++ {
		b := make([]byte, 12)
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		pw := string(b)
		for _, p := range []Policy{d, n} {
			res := p.Check(pw, testPersonal)
			for _, r := range res.Unmet() {
				if r.Key == CommonKey || r.Key == PersonalKey {
					t.Errorf("%s: random %q refused by %s", p.Name, pw, r.Key)
				}
			}
		}
		phrase := make([]string, 4)
		for j := range phrase {
			phrase[j] = words[rng.IntN(len(words))]
		}
		pw = strings.Join(phrase, "-")
		if res := n.Check(pw, testPersonal); !res.OK() && utf8.RuneCountInString(pw) >= 12 {
			t.Errorf("nist: passphrase %q refused: %v", pw, keys(res.Unmet()))
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	d := DefaultPolicy()
	b.Run("typical", func(b *testing.B) {
		for b.Loop() {
			d.Check("Ärger-Über-Straße9", testPersonal)
		}
	})
	b.Run("worst", func(b *testing.B) {
		pw := strings.Repeat("Mu$term@nn-1!", 400) // over 4 KiB: judged on the first 4 KiB
		long := strings.Repeat("abcd.", 100)
		personal := Personal{Email: []string{long + "@" + long}, Name: []string{long}, Org: []string{long}}
		for b.Loop() {
			d.Check(pw, personal)
		}
	})
}
