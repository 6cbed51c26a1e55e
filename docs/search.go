package docs

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// areaWords are the words people type when they look for an area rather than an item, in both
// languages: "wlan" finds the WLAN area although no item is called that. Compared without case, accents,
// spaces and hyphens ("Wi-Fi" is "wifi").
var areaWords = map[*Area][]string{
	Configurations: {"configurations", "configuration", "konfigurationen", "konfiguration", "config", "devices", "device",
		"geräte", "gerät", "hardware", "assets", "inventar", "inventory"},
	Contacts: {"contacts", "contact", "kontakte", "kontakt", "ansprechpartner", "people", "personen", "telefonnummern", "phone numbers"},
	Passwords: {"passwords", "password", "passwörter", "passwort", "kennwörter", "kennwort", "credentials", "zugangsdaten",
		"logins", "login", "accounts", "konten"},
	Wireless: {"wireless", "wlan", "wifi", "wi fi", "wlan netze", "funknetz", "ssid", "wireless networks", "netzwerkschlüssel"},
	VPN:      {"vpn", "vpns", "tunnel", "wireguard", "ipsec", "openvpn", "fernzugang", "remote access"},
}

// areaWordsFolded is areaWords folded once, as AreasFor compares them on every search.
var areaWordsFolded = func() map[*Area][]string {
	m := make(map[*Area][]string, len(areaWords))
	for a, ws := range areaWords {
		for _, w := range ws {
			m[a] = append(m[a], foldWord(w))
		}
	}
	return m
}()

// foldWord lower-cases, drops accents and keeps letters and digits only.
func foldWord(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// AreasFor lists the areas the typed text names: a whole area word, or (from three letters on) the start
// of one ("pass" → passwords).
func AreasFor(text string) []*Area {
	q := foldWord(text)
	if q == "" {
		return nil
	}
	var out []*Area
	for _, a := range Areas {
		for _, fw := range areaWordsFolded[a] {
			if q == fw || len(q) >= 3 && strings.HasPrefix(fw, q) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}
