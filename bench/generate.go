package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"portier/auth"
	"portier/db"
	"portier/docs"
)

// Spec is the size of a generated data set.
type Spec struct {
	Orgs    int // organisations
	Items   int // documentation items, spread over the five areas
	People  int // people: a few MSP staff, the rest customers with memberships
	BigOrgs int // organisations with many items and members, used for the page views
	Seed    uint64
	Log     io.Writer // progress lines; nil: none
}

// DefaultSpec is the size the issue asks for: 1,000 organisations, 100,000 items, 5,000 people.
func DefaultSpec() Spec {
	return Spec{Orgs: 1000, Items: 100_000, People: 5000, BigOrgs: 10, Seed: 2026}
}

// Person is a generated customer who can sign in.
type Person struct {
	Email string
	Org   string // slug of the organisation the person belongs to (the first, when several)
	Big   int    // index into Dataset.Big, or -1
}

// BigOrg is an organisation the page views use.
type BigOrg struct {
	Slug      string
	Members   []int   // indexes into Dataset.People
	Configs   []int64 // configuration items customers see
	Passwords []int64 // password items with a stored password customers see
	Counts    map[string]int
	Connected int64 // a configuration with ConnectedLinks related items and ConnectedFiles files (connect.go)
}

// Dataset is what the load generator needs to know about the generated data.
type Dataset struct {
	Password   string
	TOTPSecret []byte
	People     []Person
	Big        []BigOrg
	Orgs       int
	Items      int
	StaffOnly  int
	SearchTerm string
}

// Generate creates the data set in dataDir (portier.db and secret.key, as the server expects them).
func Generate(ctx context.Context, dataDir string, spec Spec) (*Dataset, error) {
	logf := func(format string, args ...any) {
		if spec.Log != nil {
			fmt.Fprintf(spec.Log, format+"\n", args...)
		}
	}
	if spec.BigOrgs < 1 || spec.BigOrgs > spec.Orgs {
		return nil, fmt.Errorf("bench: %d big organisations of %d", spec.BigOrgs, spec.Orgs)
	}
	key, err := db.LoadOrCreateKey(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		return nil, err
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, filepath.Join(dataDir, "portier.db"))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	// Loading, not serving: the single writer connection skips fsync while the set is built. A crash
	// here only loses a benchmark's scratch data; the server opens the file with its own settings.
	if _, err := d.W.ExecContext(ctx, "PRAGMA synchronous=OFF"); err != nil {
		return nil, err
	}
	g := &gen{ctx: ctx, d: d, s: sealer, r: rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x5eed)), spec: spec, now: time.Now()}
	ds := &Dataset{Password: "Bench-Passwort#2026", TOTPSecret: []byte("portier-bench-totp!!"), Orgs: spec.Orgs,
		SearchTerm: "lenovo"}

	start := time.Now()
	if err := g.orgs(); err != nil {
		return nil, err
	}
	logf("  %d organisations (%s)", len(g.orgList), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	n, staffOnly, err := g.items()
	if err != nil {
		return nil, err
	}
	ds.Items, ds.StaffOnly = n, staffOnly
	logf("  %d documentation items, %d of them staff-only (%s)", n, staffOnly, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if err := g.people(ds); err != nil {
		return nil, err
	}
	logf("  %d people with password and authenticator app (%s)", spec.People, time.Since(start).Round(time.Millisecond))

	for i := range spec.BigOrgs {
		o := g.orgList[i]
		b := BigOrg{Slug: o.Slug, Members: g.bigMembers[i]}
		if b.Connected, err = connect(ctx, d, sealer, o.ID); err != nil {
			return nil, err
		}
		sc := db.DocScope{OrgID: o.ID}
		if b.Counts, err = d.DocCounts(ctx, sc); err != nil {
			return nil, err
		}
		cfgs, _, err := d.DocList(ctx, db.DocQuery{DocScope: sc, Area: docs.Configurations.Name, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, it := range cfgs {
			if it.ID != b.Connected { // the plain detail page stays plain
				b.Configs = append(b.Configs, it.ID)
			}
		}
		pws, _, err := d.DocList(ctx, db.DocQuery{DocScope: sc, Area: docs.Passwords.Name, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, it := range pws {
			if it.Secrets["password"] {
				b.Passwords = append(b.Passwords, it.ID)
			}
		}
		ds.Big = append(ds.Big, b)
	}
	return ds, nil
}

type gen struct {
	ctx        context.Context
	d          *db.DB
	s          *db.Sealer
	r          *rand.Rand
	spec       Spec
	now        time.Time
	orgList    []*db.Org
	contacts   map[int64][]int64 // org → contact item ids
	bigMembers [][]int
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

var (
	firstNames = []string{"Anna", "Lukas", "Julia", "Felix", "Laura", "Jonas", "Sarah", "Leon", "Lena", "Paul", "Katharina",
		"Tim", "Sophie", "Max", "Marie", "Jan", "Lisa", "Tobias", "Nina", "David", "Jürgen", "Sabine", "Özlem", "Thomas",
		"Petra", "Michael", "Andrea", "Stefan", "Claudia", "Frank"}
	lastNames = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
		"Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
		"Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Yılmaz", "Kowalski", "Nguyen"}
	trades = []string{"Bäckerei", "Autohaus", "Steuerkanzlei", "Zahnarztpraxis", "Architekturbüro", "Ingenieurbüro",
		"Spedition", "Hotel", "Apotheke", "Metallbau", "Elektro", "Physiotherapie", "Rechtsanwälte", "Druckerei",
		"Immobilien", "Tischlerei", "Optik", "Hausverwaltung", "Gärtnerei", "Kfz-Werkstatt"}
	legal  = []string{"GmbH", "KG", "GmbH & Co. KG", "e.K.", "AG", "Partnerschaft"}
	cities = []string{"Bremen", "Hamburg", "Oldenburg", "Hannover", "Osnabrück", "Münster", "Köln", "Kassel", "Leipzig", "Erfurt"}
	places = []string{"Empfang", "Büro 1.02", "Büro 2.14", "Serverraum", "Lager", "Besprechungsraum", "Werkstatt",
		"Homeoffice", "Chefbüro", "Buchhaltung", "Technikraum UG"}
	titles = []string{"Geschäftsführung", "Buchhaltung", "Empfang", "IT-Ansprechpartner", "Werkstattleitung",
		"Prokurist", "Assistenz der Geschäftsführung", "Einkauf", "Vertrieb", "Datenschutzbeauftragte"}
)

type kindSpec struct {
	kind, prefix string
	makers       []string
	models       []string
	os           []string
}

var configKinds = []kindSpec{
	{"server", "SRV", []string{"Dell", "HPE", "Fujitsu", "Lenovo"}, []string{"PowerEdge R650", "ProLiant DL380 Gen10", "PRIMERGY RX2540", "ThinkSystem SR630"}, []string{"Windows Server 2022", "Windows Server 2019", "Debian 12", "VMware ESXi 8"}},
	{"workstation", "WS", []string{"Dell", "HP", "Lenovo", "Fujitsu"}, []string{"OptiPlex 7010", "EliteDesk 800 G9", "ThinkCentre M90q", "ESPRIMO P758"}, []string{"Windows 11 Pro", "Windows 10 Pro"}},
	{"laptop", "NB", []string{"Dell", "HP", "Lenovo", "Apple"}, []string{"Latitude 5440", "EliteBook 840 G10", "ThinkPad T14 Gen 4", "MacBook Air M2"}, []string{"Windows 11 Pro", "macOS 14"}},
	{"firewall", "FW", []string{"Sophos", "Fortinet", "LANCOM", "Securepoint"}, []string{"XGS 2100", "FortiGate 60F", "R&S Unified Firewall", "RC200"}, []string{"SFOS 20", "FortiOS 7.4", "LCOS FX", "UTM 12"}},
	{"switch", "SW", []string{"Cisco", "HPE Aruba", "Ubiquiti", "LANCOM"}, []string{"Catalyst 9200", "Aruba 2930F", "UniFi USW-24-PoE", "GS-3528XP"}, nil},
	{"access_point", "AP", []string{"Ubiquiti", "LANCOM", "HPE Aruba"}, []string{"UniFi U6 Pro", "LW-600", "AP-515"}, nil},
	{"printer", "PRN", []string{"Kyocera", "Brother", "HP", "Canon"}, []string{"ECOSYS M5526cdw", "MFC-L8900CDW", "LaserJet Pro M404", "imageRUNNER C3226i"}, nil},
	{"phone", "TEL", []string{"Yealink", "Snom", "Gigaset"}, []string{"T54W", "D785", "Maxwell 3"}, nil},
	{"other", "DEV", []string{"APC", "Synology", "QNAP"}, []string{"Smart-UPS 1500", "DS923+", "TS-464"}, []string{"DSM 7.2", "QTS 5.1"}},
}

var passwordNames = []struct{ name, category, user, url string }{
	{"Microsoft 365 Admin", "cloud", "admin@%s.onmicrosoft.com", "https://admin.microsoft.com"},
	{"DATEV Arbeitsplatz", "application", "buchhaltung", ""},
	{"Router Admin", "network", "admin", "https://192.168.178.1"},
	{"NAS Admin", "device", "admin", "https://nas.%s.local:5001"},
	{"Firewall Admin", "admin", "admin", "https://fw.%s.local:4444"},
	{"Domänen-Administrator", "admin", "Administrator", ""},
	{"WLAN-Controller", "network", "ubnt", "https://unifi.%s.local:8443"},
	{"Lexware Online", "cloud", "office@%s.example", "https://app.lexoffice.de"},
	{"Telekom Kundencenter", "account", "kunde-%s", "https://www.telekom.de/kundencenter"},
	{"Sophos Central", "cloud", "it@%s.example", "https://central.sophos.com"},
	{"Veeam Backup", "application", "backup-svc", "https://veeam.%s.local:9419"},
	{"Drucker Web-Oberfläche", "device", "admin", "http://drucker.%s.local"},
	{"E-Mail Postfach Info", "email", "info@%s.example", "https://outlook.office.com"},
	{"Online-Banking", "account", "firma-%s", "https://banking.example"},
	{"Webhosting", "cloud", "kd-%s", "https://login.ionos.de"},
}

// orgs creates the organisations: the first BigOrgs are the large customers the page views use.
func (g *gen) orgs() error {
	for i := range g.spec.Orgs {
		name := fmt.Sprintf("%s %s %s", g.pick(trades), g.pick(lastNames), g.pick(legal))
		if i%3 == 0 {
			name += " " + g.pick(cities)
		}
		slug := db.Slugify(name)
		if len(slug) > 40 {
			slug = strings.Trim(slug[:40], "-")
		}
		o, err := g.d.CreateOrg(g.ctx, name, slug+"-"+strconv.Itoa(i+1))
		if err != nil {
			return err
		}
		g.orgList = append(g.orgList, o)
	}
	return nil
}

// itemsPerOrg spreads the items: each big organisation gets up to 1,000, the others share the rest.
func (g *gen) itemsPerOrg() []int {
	n := make([]int, len(g.orgList))
	big := min(1000, g.spec.Items/2/g.spec.BigOrgs)
	rest := g.spec.Items - big*g.spec.BigOrgs
	small := len(g.orgList) - g.spec.BigOrgs
	for i := range n {
		switch {
		case i < g.spec.BigOrgs:
			n[i] = big
		case small > 0:
			n[i] = rest / small
			if i-g.spec.BigOrgs < rest%small {
				n[i]++
			}
		}
	}
	return n
}

// areaSplit divides an organisation's items over the areas: configurations 35%, contacts 15%,
// passwords 30%, wireless and VPN 10% each.
func areaSplit(n int) map[*docs.Area]int {
	m := map[*docs.Area]int{docs.Contacts: n * 15 / 100, docs.Passwords: n * 30 / 100, docs.Wireless: n * 10 / 100, docs.VPN: n * 10 / 100}
	m[docs.Configurations] = n - m[docs.Contacts] - m[docs.Passwords] - m[docs.Wireless] - m[docs.VPN]
	return m
}

const batchSize = 2500

// items creates every organisation's documentation, contacts first (configurations refer to them).
func (g *gen) items() (int, int, error) {
	per := g.itemsPerOrg()
	by := db.DocActor{Name: "Import"}
	var batch []db.DocChange
	total, staffOnly := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := g.d.DocCreateMany(g.ctx, g.s, batch, by, nil)
		total += len(batch)
		batch = batch[:0]
		return err
	}
	add := func(ch db.DocChange) error {
		if ch.StaffOnly {
			staffOnly++
		}
		batch = append(batch, ch)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	}
	for i, o := range g.orgList {
		for j := range areaSplit(per[i])[docs.Contacts] {
			if err := add(g.contact(o, j)); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := flush(); err != nil {
		return 0, 0, err
	}
	g.contacts = map[int64][]int64{}
	for _, o := range g.orgList {
		cs, _, err := g.d.DocList(g.ctx, db.DocQuery{DocScope: db.DocScope{OrgID: o.ID, StaffView: true}, Area: docs.Contacts.Name, Limit: 200})
		if err != nil {
			return 0, 0, err
		}
		for _, c := range cs {
			g.contacts[o.ID] = append(g.contacts[o.ID], c.ID)
		}
	}
	for i, o := range g.orgList {
		split := areaSplit(per[i])
		for j := range split[docs.Configurations] {
			if err := add(g.config(o, j)); err != nil {
				return 0, 0, err
			}
		}
		for j := range split[docs.Passwords] {
			if err := add(g.password(o, j)); err != nil {
				return 0, 0, err
			}
		}
		for j := range split[docs.Wireless] {
			if err := add(g.wireless(o, j)); err != nil {
				return 0, 0, err
			}
		}
		for j := range split[docs.VPN] {
			if err := add(g.vpn(o, j)); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := flush(); err != nil {
		return 0, 0, err
	}
	return total, staffOnly, nil
}

func (g *gen) short(o *db.Org) string {
	s, _, _ := strings.Cut(o.Slug, "-")
	return s
}

func (g *gen) date(minDays, maxDays int) string {
	return g.now.AddDate(0, 0, minDays+g.r.IntN(maxDays-minDays)).Format("2006-01-02")
}

func (g *gen) secret(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%+-=?@_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) serial() string {
	const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := make([]byte, 10)
	for i := range b {
		b[i] = alnum[g.r.IntN(len(alnum))]
	}
	return string(b)
}

func (g *gen) mac() string {
	return fmt.Sprintf("00:1A:%02X:%02X:%02X:%02X", g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
}

func (g *gen) phone() string {
	return fmt.Sprintf("+49 %d %d-%d", 30+g.r.IntN(900), 100000+g.r.IntN(900000), 10+g.r.IntN(90))
}

func asciiName(s string) string { return strings.ReplaceAll(db.Slugify(s), "-", "") }

func (g *gen) contact(o *db.Org, j int) db.DocChange {
	first, last := g.pick(firstNames), g.pick(lastNames)
	f := map[string]string{
		"title":    g.pick(titles),
		"email":    fmt.Sprintf("%s.%s@%s.example", asciiName(first), asciiName(last), g.short(o)),
		"phone":    g.phone(),
		"location": g.pick(places),
	}
	if g.r.IntN(2) == 0 {
		f["mobile"] = fmt.Sprintf("+49 1%d %d", 50+g.r.IntN(30), 1000000+g.r.IntN(9000000))
	}
	if j == 0 {
		f["primary"] = "1"
		f["notes"] = "Erreichbar Mo–Fr 8–16 Uhr. Bei Ausfällen bitte zuerst anrufen, dann E-Mail."
	}
	return db.DocChange{OrgID: o.ID, Area: docs.Contacts.Name, Name: first + " " + last, Fields: f}
}

func (g *gen) config(o *db.Org, j int) db.DocChange {
	k := configKinds[g.r.IntN(len(configKinds))]
	if j < 2 {
		k = configKinds[0] // every customer has a server or two
	}
	f := map[string]string{
		"kind":         k.kind,
		"manufacturer": g.pick(k.makers),
		"model":        g.pick(k.models),
		"serial":       g.serial(),
		"ip":           fmt.Sprintf("192.168.%d.%d", 10+g.r.IntN(20), 2+g.r.IntN(250)),
		"mac":          g.mac(),
		"location":     g.pick(places),
		"warranty_end": g.date(-400, 1500),
	}
	if k.os != nil {
		f["os"] = g.pick(k.os)
	}
	if cs := g.contacts[o.ID]; len(cs) > 0 && g.r.IntN(3) == 0 {
		f["contact"] = strconv.FormatInt(cs[g.r.IntN(len(cs))], 10)
	}
	if g.r.IntN(4) == 0 {
		f["notes"] = fmt.Sprintf("Angeschafft %d, Wartungsvertrag bis %s. Zugang über %s.", 2019+g.r.IntN(6), g.date(0, 900), g.pick(places))
	}
	return db.DocChange{OrgID: o.ID, Area: docs.Configurations.Name, Name: fmt.Sprintf("%s-%s%02d", k.prefix, strings.ToUpper(g.short(o))[:min(3, len(g.short(o)))], j+1), Fields: f}
}

func (g *gen) password(o *db.Org, j int) db.DocChange {
	p := passwordNames[g.r.IntN(len(passwordNames))]
	sub := g.short(o)
	f := map[string]string{"category": p.category}
	if p.user != "" {
		f["username"] = strings.ReplaceAll(p.user, "%s", sub)
	}
	if p.url != "" {
		f["url"] = strings.ReplaceAll(p.url, "%s", sub)
	}
	sec := map[string]string{"password": g.secret(16 + g.r.IntN(8))}
	if g.r.IntN(10) == 0 {
		sec["totp"] = "JBSWY3DPEHPK3PXP" + strings.Repeat("A", 16)
	}
	name := p.name
	if j >= len(passwordNames) {
		name += " " + strconv.Itoa(j/len(passwordNames)+1)
	}
	// A handful of the MSP's own administrator accounts stay hidden from the customer.
	staffOnly := p.category == "admin" && j%20 == 0
	return db.DocChange{OrgID: o.ID, Area: docs.Passwords.Name, Name: name, Fields: f, Secrets: sec, StaffOnly: staffOnly}
}

func (g *gen) wireless(o *db.Org, j int) db.DocChange {
	names := []string{"Büro", "Gast", "Lager", "IoT", "Werkstatt", "Besprechung"}
	name := strings.ToUpper(g.short(o)[:1]) + g.short(o)[1:] + "-" + names[j%len(names)]
	if j >= len(names) {
		name += "-" + strconv.Itoa(j/len(names)+1)
	}
	f := map[string]string{"security": g.pick([]string{"wpa2", "wpa3", "wpa2_wpa3", "wpa2", "enterprise"}), "band": g.pick([]string{"2_4", "5", "dual", "dual", "tri"}),
		"vlan": strconv.Itoa(10 + 10*g.r.IntN(10))}
	if names[j%len(names)] == "Gast" {
		f["guest"] = "1"
	}
	return db.DocChange{OrgID: o.ID, Area: docs.Wireless.Name, Name: name, Fields: f, Secrets: map[string]string{"key": g.secret(20)}}
}

func (g *gen) vpn(o *db.Org, j int) db.DocChange {
	kinds := []struct{ kind, port, auth string }{{"wireguard", "51820", "certificate"}, {"ipsec", "500", "psk"}, {"openvpn", "1194", "certificate"}, {"sslvpn", "443", "password_otp"}}
	k := kinds[g.r.IntN(len(kinds))]
	gw := fmt.Sprintf("vpn%d.%s.example", j+1, g.short(o))
	f := map[string]string{"kind": k.kind, "gateway": gw, "port": k.port, "auth": k.auth, "username": "vpn-" + strconv.Itoa(j+1)}
	sec := map[string]string{"secret": g.secret(24)}
	if k.kind == "wireguard" {
		sec["config"] = fmt.Sprintf("[Interface]\nPrivateKey = %s=\nAddress = 10.8.0.%d/32\nDNS = 192.168.10.1\n\n[Peer]\nPublicKey = %s=\nEndpoint = %s:51820\nAllowedIPs = 192.168.10.0/24\nPersistentKeepalive = 25\n",
			g.secret(43), 2+j%250, g.secret(43), gw)
	}
	name := []string{"Homeoffice", "Standortvernetzung", "Fernwartung MSP", "Außendienst"}[j%4]
	if j >= 4 {
		name += " " + strconv.Itoa(j/4+1)
	}
	return db.DocChange{OrgID: o.ID, Area: docs.VPN.Name, Name: name, Fields: f, Secrets: sec, StaffOnly: name == "Fernwartung MSP" && j == 2}
}

// people creates the staff and the customers. The password is hashed once and the PHC string reused
// (5,000 argon2id hashes would take minutes); every person gets an authenticator app with the same
// known secret, sealed to their own row.
func (g *gen) people(ds *Dataset) error {
	phc, err := auth.NewHasher(0).Hash(g.ctx, ds.Password)
	if err != nil {
		return err
	}
	terms, err := g.d.CurrentTerms(g.ctx)
	if err != nil {
		return err
	}
	const staff = 5
	const perBig = 20
	bigMembers := min(g.spec.BigOrgs*perBig, max(0, g.spec.People-staff))
	g.bigMembers = make([][]int, g.spec.BigOrgs)
	small := len(g.orgList) - g.spec.BigOrgs
	seen := map[int64]bool{}
	var ids []int64
	type member struct {
		org  int64
		role string
	}
	for start := 0; start < g.spec.People; start += 500 {
		end := min(start+500, g.spec.People)
		ids = ids[:0]
		err := g.d.Tx(g.ctx, func(tx *sql.Tx) error {
			for i := start; i < end; i++ {
				first, last := g.pick(firstNames), g.pick(lastNames)
				lang := "de"
				if i%5 == 4 {
					lang = "en"
				}
				var ms []member
				staffRole, orgSlug, big := "", "", -1
				switch {
				case i < staff:
					staffRole = "technician"
					if i == 0 {
						staffRole = "admin"
					}
				case i-staff < bigMembers:
					big = (i - staff) % g.spec.BigOrgs
					o := g.orgList[big]
					ms = append(ms, member{o.ID, "viewer"})
				case small > 0:
					o := g.orgList[g.spec.BigOrgs+(i-staff-bigMembers)%small]
					ms = append(ms, member{o.ID, "viewer"})
					if i%10 == 0 {
						other := g.orgList[g.spec.BigOrgs+(i*7)%small]
						if other.ID != o.ID {
							ms = append(ms, member{other.ID, "viewer"})
						}
					}
				}
				domain := "msp.example"
				if len(ms) > 0 {
					for _, o := range g.orgList {
						if o.ID == ms[0].org {
							orgSlug = o.Slug
							domain = g.short(o) + ".example"
						}
					}
					// The first person of an organisation manages it.
					if !seen[ms[0].org] {
						seen[ms[0].org] = true
						ms[0].role = "manager"
					}
				}
				email := fmt.Sprintf("%s.%s.%d@%s", asciiName(first), asciiName(last), i, domain)
				id, _, err := db.EnsureUser(g.ctx, tx, g.now, email, first+" "+last, lang)
				if err != nil {
					return err
				}
				if err := db.SetPassword(g.ctx, tx, g.now, id, phc); err != nil {
					return err
				}
				if staffRole != "" {
					if err := db.SetStaffRole(g.ctx, tx, id, staffRole); err != nil {
						return err
					}
				}
				for _, m := range ms {
					if err := db.SetMembership(g.ctx, tx, g.now, id, m.org, m.role); err != nil {
						return err
					}
				}
				if terms != nil {
					if err := db.AcceptTerms(g.ctx, tx, g.now, id, terms.Version, "127.0.0.1"); err != nil {
						return err
					}
				}
				if _, err := db.AddTOTP(g.ctx, tx, g.s, g.now, id, "Handy", ds.TOTPSecret, 0); err != nil {
					return err
				}
				ids = append(ids, id)
				if staffRole == "" {
					if big >= 0 {
						g.bigMembers[big] = append(g.bigMembers[big], len(ds.People))
					}
					ds.People = append(ds.People, Person{Email: email, Org: orgSlug, Big: big})
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := g.d.MarkSetupShown(g.ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Reuse prepares a data set kept by an earlier run for another: its sign-ins may have used the current
// one-time-code steps (the next run's codes would be replays, counted as failures) and filled the
// throttling tables. Only for the benchmark's own scratch data.
func Reuse(ctx context.Context, dataDir string) error {
	d, err := db.Open(ctx, filepath.Join(dataDir, "portier.db"))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE mfa_methods SET last_step = 0`, `DELETE FROM ip_failures`,
			`UPDATE users SET failed_logins = 0, locked_until = 0`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
