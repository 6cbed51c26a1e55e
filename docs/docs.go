// Package docs defines the five documentation areas — configurations, contacts, passwords, wireless and
// VPN — as data: their fields, kinds, options and validation. Storage, pages, CSV import/export and search
// all read these definitions, so a field is declared once. Validation returns translation keys, never
// sentences.
package docs

import (
	"math"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is how a field is entered, validated and shown.
type Kind int

const (
	Text     Kind = iota // one line
	LongText             // several lines (notes)
	Email
	Phone
	URL
	IP     // one or more IPv4/IPv6 addresses or CIDR ranges, comma-separated
	MAC    // one or more MAC addresses
	Date   // stored as YYYY-MM-DD; DD.MM.YYYY accepted
	Enum   // one of Options
	Bool   // "1" or ""
	Port   // 1–65535
	Int    // a whole number 0–4094 (VLAN ids)
	Secret // sealed at rest, one line (passwords, keys)
	SecretText
	TOTPSeed // sealed base32 seed of a stored password's one-time codes
	Contact  // id of a contact of the same organisation
	Number   // a decimal number (custom fields)
)

// Field is one field of an area.
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	Max      int      // maximum length in characters (0: the kind's default)
	Options  []string // for Enum
	InList   bool     // shown as a column in the list
	Filter   bool     // offered as a list filter (Enum and Bool)
	// Copy offers a copy button beside a plain value people type elsewhere (user names, SSIDs); every
	// secret has one on its item's page anyway. ListCopy adds one for a secret to each row of the list.
	Copy     bool
	ListCopy bool
	// Custom marks a field an MSP administrator added (see custom.go): its Label is what they typed, shown
	// as it is in both languages, and its options are shown as typed too.
	Custom bool
	Label  string
	// Expiry marks a date that is a deadline (warranty end, a custom "licence valid until"): it appears in
	// the overview of what expires next.
	Expiry bool
}

// IsSecret reports whether the field is sealed at rest and shown only on request.
func (f Field) IsSecret() bool { return f.Kind == Secret || f.Kind == SecretText || f.Kind == TOTPSeed }

// LabelKey is the field's translation key.
// For a custom field it is the administrator's label itself: a text that is no key renders as itself
// (Localizer.T), and CustomFieldLabelOK refuses labels that are keys.
func (f Field) LabelKey(area string) string {
	if f.Custom {
		return f.Label
	}
	return "docs." + area + "." + f.Name
}

// OptionKey is the translation key of an Enum option.
func (f Field) OptionKey(opt string) string {
	if f.Custom {
		return opt
	}
	return "docs.opt." + f.Name + "." + opt
}

// Area is one documentation area.
type Area struct {
	Name   string // URL segment and stored value
	Fields []Field
}

// TitleKey is the area's translation key.
func (a *Area) TitleKey() string { return "docs.area." + a.Name }

// Field returns the named field.
func (a *Area) Field(name string) (Field, bool) {
	for _, f := range a.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Secrets lists the area's secret fields.
func (a *Area) Secrets() []Field {
	var out []Field
	for _, f := range a.Fields {
		if f.IsSecret() {
			out = append(out, f)
		}
	}
	return out
}

// The five areas. Every area has "name" (required) and "notes".
var (
	Configurations = &Area{Name: "configurations", Fields: []Field{
		{Name: "name", Kind: Text, Required: true, InList: true},
		{Name: "kind", Kind: Enum, Required: true, InList: true, Filter: true, Options: []string{"server", "workstation", "laptop", "firewall", "switch", "access_point", "printer", "phone", "other"}},
		{Name: "manufacturer", Kind: Text, InList: true},
		{Name: "model", Kind: Text},
		{Name: "serial", Kind: Text},
		{Name: "ip", Kind: IP, InList: true},
		{Name: "mac", Kind: MAC},
		{Name: "os", Kind: Text},
		{Name: "location", Kind: Text, InList: true},
		{Name: "contact", Kind: Contact},
		{Name: "warranty_end", Kind: Date, InList: true, Expiry: true},
		{Name: "notes", Kind: LongText},
	}}
	Contacts = &Area{Name: "contacts", Fields: []Field{
		{Name: "name", Kind: Text, Required: true, InList: true},
		{Name: "title", Kind: Text, InList: true},
		{Name: "email", Kind: Email, InList: true},
		{Name: "phone", Kind: Phone, InList: true},
		{Name: "mobile", Kind: Phone},
		{Name: "location", Kind: Text},
		{Name: "primary", Kind: Bool, InList: true, Filter: true},
		{Name: "notes", Kind: LongText},
	}}
	Passwords = &Area{Name: "passwords", Fields: []Field{
		{Name: "name", Kind: Text, Required: true, InList: true},
		{Name: "category", Kind: Enum, InList: true, Filter: true, Options: []string{"account", "admin", "application", "cloud", "device", "email", "network", "other"}},
		{Name: "username", Kind: Text, InList: true, Copy: true},
		{Name: "password", Kind: Secret, ListCopy: true},
		{Name: "url", Kind: URL, InList: true},
		{Name: "totp", Kind: TOTPSeed},
		{Name: "notes", Kind: LongText},
	}}
	Wireless = &Area{Name: "wireless", Fields: []Field{
		{Name: "name", Kind: Text, Required: true, InList: true, Copy: true}, // the SSID
		{Name: "security", Kind: Enum, Required: true, InList: true, Filter: true, Options: []string{"open", "wpa2", "wpa3", "wpa2_wpa3", "enterprise"}},
		{Name: "key", Kind: Secret, ListCopy: true},
		{Name: "band", Kind: Enum, InList: true, Options: []string{"2_4", "5", "6", "dual", "tri"}},
		{Name: "vlan", Kind: Int, InList: true},
		{Name: "guest", Kind: Bool, InList: true, Filter: true},
		{Name: "hidden", Kind: Bool},
		{Name: "notes", Kind: LongText},
	}}
	VPN = &Area{Name: "vpn", Fields: []Field{
		{Name: "name", Kind: Text, Required: true, InList: true},
		{Name: "kind", Kind: Enum, Required: true, InList: true, Filter: true, Options: []string{"wireguard", "ipsec", "openvpn", "sslvpn", "other"}},
		{Name: "gateway", Kind: Text, InList: true},
		{Name: "port", Kind: Port, InList: true},
		{Name: "auth", Kind: Enum, Options: []string{"psk", "certificate", "password", "password_otp", "sso", "other"}},
		{Name: "username", Kind: Text, Copy: true},
		{Name: "secret", Kind: Secret},
		{Name: "config", Kind: SecretText, Max: 20000},
		{Name: "notes", Kind: LongText},
	}}
	// Areas in menu order.
	Areas = []*Area{Configurations, Contacts, Passwords, Wireless, VPN}
)

// ByName finds an area by its URL segment.
func ByName(name string) (*Area, bool) {
	for _, a := range Areas {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// MaxLen is the longest value a field accepts, in characters.
func (f Field) MaxLen() int {
	if f.Max > 0 {
		return f.Max
	}
	switch f.Kind {
	case LongText:
		return 10000
	case SecretText:
		return 20000
	case URL:
		return 2000
	case Secret:
		return 1000
	default:
		return 200
	}
}

var (
	phoneRE = regexp.MustCompile(`^\+?[0-9 ()/.\-]{3,40}$`)
	macRE   = regexp.MustCompile(`^(?i)([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$|^(?i)[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$`)
	b32RE   = regexp.MustCompile(`^[A-Z2-7]{16,128}=*$`)
)

// Clean validates one value. It returns the value to store and "" or the translation key of the problem.
func (f Field) Clean(v string) (string, string) {
	if !utf8.ValidString(v) {
		return "", "docs.err.utf8"
	}
	if strings.ContainsRune(v, 0) {
		return "", "docs.err.control"
	}
	if f.Kind != LongText && f.Kind != SecretText {
		v = strings.TrimSpace(v)
		if strings.ContainsFunc(v, unicode.IsControl) {
			return "", "docs.err.control"
		}
	} else {
		v = strings.ReplaceAll(v, "\r\n", "\n")
		if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
			return "", "docs.err.control"
		}
	}
	if v == "" {
		if f.Required {
			return "", "docs.err.required"
		}
		return "", ""
	}
	if utf8.RuneCountInString(v) > f.MaxLen() {
		return "", "docs.err.too_long"
	}
	switch f.Kind {
	case Email:
		if !PlainAddress(v) {
			return "", "docs.err.email"
		}
	case Phone:
		if !phoneRE.MatchString(v) {
			return "", "docs.err.phone"
		}
	case URL:
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ssh" && u.Scheme != "rdp" && u.Scheme != "ftp" && u.Scheme != "sftp") || u.Host == "" {
			return "", "docs.err.url"
		}
	case IP:
		parts := splitList(v)
		for _, p := range parts {
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					return "", "docs.err.ip"
				}
			}
		}
		v = strings.Join(parts, ", ")
	case MAC:
		parts := splitList(v)
		for i, p := range parts {
			if !macRE.MatchString(p) {
				return "", "docs.err.mac"
			}
			parts[i] = strings.ToUpper(p)
		}
		v = strings.Join(parts, ", ")
	case Date:
		d, ok := parseDate(v)
		if !ok {
			return "", "docs.err.date"
		}
		v = d
	case Enum:
		ok := false
		for _, o := range f.Options {
			ok = ok || o == v
		}
		if !ok {
			return "", "docs.err.option"
		}
	case Bool:
		switch strings.ToLower(v) {
		case "1", "true", "on", "yes", "ja", "x":
			v = "1"
		case "0", "false", "off", "no", "nein":
			v = ""
		default:
			return "", "docs.err.bool"
		}
	case Port:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return "", "docs.err.port"
		}
		v = strconv.Itoa(n)
	case Int:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 4094 {
			return "", "docs.err.vlan"
		}
		v = strconv.Itoa(n)
	case TOTPSeed:
		s := strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(v, " ", ""), "-", ""))
		if !b32RE.MatchString(s) {
			return "", "docs.err.totp"
		}
		v = s
	case Number:
		n, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return "", "docs.err.number"
		}
		v = strconv.FormatFloat(n, 'f', -1, 64)
		if len(v) > 24 {
			// 1e308 written out has 309 digits: longer than a value may be, so an export could not be
			// imported again. Very large and very small numbers keep their exponent.
			v = strconv.FormatFloat(n, 'g', -1, 64)
		}
	case Contact:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return "", "docs.err.contact"
		}
		v = strconv.FormatInt(n, 10)
	}
	return v, ""
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate cleans every field of the area from values (missing names count as empty). It returns the
// values to store and, per field name, the translation key of its problem.
func (a *Area) Validate(values map[string]string) (map[string]string, map[string]string) {
	clean := make(map[string]string, len(a.Fields))
	var errs map[string]string
	for _, f := range a.Fields {
		v, e := f.Clean(values[f.Name])
		if e != "" {
			if errs == nil {
				errs = map[string]string{}
			}
			errs[f.Name] = e
			continue
		}
		clean[f.Name] = v
	}
	return clean, errs
}

// PlainAddress reports whether v is an e-mail address alone (no display name, no angle brackets) with a
// dot in its domain: what an e-mail field of an item holds, and what the expiry digest is sent to.
func PlainAddress(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && strings.Contains(v[strings.LastIndexByte(v, '@'):], ".")
}
