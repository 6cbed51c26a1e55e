package i18n

import "testing"

// FuzzNegotiate: any Accept-Language header (however long or broken) picks one of our languages, the same
// one every time, and German when nothing usable is asked for.
func FuzzNegotiate(f *testing.F) {
	b, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "de", "en", "en-GB,en;q=0.9", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "*", "en;q=0",
		"de-u-rg-chzzzz", "x-klingon", "en;q=abc", ";;;,,,", "en-US;q=1.5", "\xff\xfe", "zh-Hant-TW;q=0.1, en;q=0.05"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := b.Negotiate(header)
		if !Supported(got) {
			t.Fatalf("Negotiate(%q) = %q", header, got)
		}
		if again := b.Negotiate(header); again != got {
			t.Fatalf("Negotiate(%q) gave %q, then %q", header, got, again)
		}
		if l := b.For(got, ""); l.T("error.404.title") == "" {
			t.Fatalf("no text for %q", got)
		}
	})
}

func TestNegotiateSeeds(t *testing.T) {
	b, _ := Load()
	for header, want := range map[string]string{"": "de", "en-GB,en;q=0.9": "en", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7": "en",
		"x-klingon": "de", "\xff\xfe": "de", "de-u-rg-chzzzz": "de"} {
		if got := b.Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", header, got, want)
		}
	}
}
