package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"portier/db"
)

// cmdDemo creates the organisation "Muster GmbH" with a realistic set of every documentation area, so a new
// installation shows a populated portal within a minute. It prints the slug.
func cmdDemo(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	cfg, err := parseSettings(env, fs, args)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.db.Close()
	org, err := createDemoOrg(ctx, a.db, a.sealer)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Demo organisation %q created.\n%s\n", org.Name, org.Slug)
	fmt.Fprintf(env.stdout, "Open it at %s/o/%s, or invite a customer: portier invite --org %s --email someone@example.com\n", cfg.BaseURL, org.Slug, org.Slug)
	return nil
}

// createDemoOrg makes "Muster GmbH" (muster, muster-2, ... when taken) with its documentation.
func createDemoOrg(ctx context.Context, d *db.DB, s *db.Sealer) (*db.Org, error) {
	var org *db.Org
	var err error
	for i := 1; i < 100; i++ {
		slug := "muster"
		if i > 1 {
			slug += "-" + strconv.Itoa(i)
		}
		org, err = d.CreateOrg(ctx, "Muster GmbH", slug)
		if !errors.Is(err, db.ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	by := db.DocActor{Name: "Demo"}
	add := func(area, name string, fields, secrets map[string]string, staffOnly bool) (int64, error) {
		return d.DocCreate(ctx, s, db.DocChange{OrgID: org.ID, Area: area, Name: name, Fields: fields, Secrets: secrets, StaffOnly: staffOnly}, by, nil)
	}
	soon := time.Now().AddDate(0, 0, 30).Format("2006-01-02")
	later := time.Now().AddDate(2, 0, 0).Format("2006-01-02")
	contacts := []struct {
		name   string
		fields map[string]string
	}{
		{"Petra Muster", map[string]string{"title": "Geschäftsführerin", "email": "petra.muster@muster-gmbh.example", "phone": "+49 30 1234560", "mobile": "+49 170 1234567", "location": "Berlin, Hauptsitz", "primary": "1"}},
		{"Jonas Weber", map[string]string{"title": "Büroleitung / IT-Ansprechpartner", "email": "jonas.weber@muster-gmbh.example", "phone": "+49 30 1234561", "location": "Berlin, Hauptsitz"}},
		{"Aylin Demir", map[string]string{"title": "Buchhaltung", "email": "aylin.demir@muster-gmbh.example", "phone": "+49 30 1234562"}},
		{"Hausverwaltung Schmidt", map[string]string{"title": "Vermieter, Serverraum-Schlüssel", "phone": "+49 30 9876543", "notes": "Notfallnummer außerhalb der Bürozeiten: +49 171 5550100"}},
	}
	var jonas int64
	for _, c := range contacts {
		id, err := add("contacts", c.name, c.fields, nil, false)
		if err != nil {
			return nil, err
		}
		if c.name == "Jonas Weber" {
			jonas = id
		}
	}
	configs := []struct {
		name   string
		fields map[string]string
	}{
		{"SRV-DC01", map[string]string{"kind": "server", "manufacturer": "Dell", "model": "PowerEdge T350", "serial": "7XK2QH3", "ip": "192.168.10.10", "mac": "F4:02:70:1A:2B:3C", "os": "Windows Server 2022", "location": "Serverraum", "warranty_end": later, "contact": strconv.FormatInt(jonas, 10), "notes": "Domänencontroller, DNS, DHCP"}},
		{"NAS-01", map[string]string{"kind": "server", "manufacturer": "Synology", "model": "DS923+", "serial": "2260QXR123456", "ip": "192.168.10.20", "os": "DSM 7.2", "location": "Serverraum", "warranty_end": soon, "notes": "Datensicherung, nächtlich 22:00"}},
		{"FW-01", map[string]string{"kind": "firewall", "manufacturer": "Sophos", "model": "XGS 116", "serial": "X1160012345", "ip": "192.168.10.1, 203.0.113.10", "os": "SFOS 20", "location": "Serverraum", "warranty_end": later}},
		{"SW-01", map[string]string{"kind": "switch", "manufacturer": "HPE Aruba", "model": "1930 24G", "ip": "192.168.10.2", "location": "Serverraum"}},
		{"AP-Empfang", map[string]string{"kind": "access_point", "manufacturer": "Ubiquiti", "model": "U6 Pro", "ip": "192.168.10.31", "location": "Empfang"}},
		{"PC-Empfang", map[string]string{"kind": "workstation", "manufacturer": "Lenovo", "model": "ThinkCentre M70q", "os": "Windows 11 Pro", "location": "Empfang", "warranty_end": later}},
		{"NB-PMuster", map[string]string{"kind": "laptop", "manufacturer": "Lenovo", "model": "ThinkPad T14 Gen 4", "os": "Windows 11 Pro", "warranty_end": soon}},
		{"DRUCKER-OG1", map[string]string{"kind": "printer", "manufacturer": "Brother", "model": "MFC-L8900CDW", "ip": "192.168.10.50", "location": "1. OG, Flur"}},
	}
	for _, c := range configs {
		if _, err := add("configurations", c.name, c.fields, nil, false); err != nil {
			return nil, err
		}
	}
	passwords := []struct {
		name      string
		fields    map[string]string
		secrets   map[string]string
		staffOnly bool
	}{
		{"Microsoft 365 Admin", map[string]string{"category": "cloud", "username": "admin@mustergmbh.onmicrosoft.com", "url": "https://admin.microsoft.com"}, map[string]string{"password": "Dach-Wolke-Regen-73!", "totp": "JBSWY3DPEHPK3PXP"}, false},
		{"NAS Administrator", map[string]string{"category": "device", "username": "nasadmin", "url": "https://192.168.10.20:5001"}, map[string]string{"password": "Sicherung#Nacht-2200"}, false},
		{"WLAN-Router Empfang", map[string]string{"category": "network", "username": "admin", "url": "https://192.168.10.31"}, map[string]string{"password": "Empfang!Antenne-59"}, false},
		{"Buchhaltung DATEV", map[string]string{"category": "application", "username": "a.demir"}, map[string]string{"password": "Bilanz+Quartal-24"}, false},
		{"Domänen-Administrator", map[string]string{"category": "admin", "username": "MUSTER\\Administrator", "notes": "Nur für Notfälle, Nutzung dem Kunden melden."}, map[string]string{"password": "Notfall_Schluessel-8841"}, true},
	}
	for _, p := range passwords {
		if _, err := add("passwords", p.name, p.fields, p.secrets, p.staffOnly); err != nil {
			return nil, err
		}
	}
	if _, err := add("wireless", "Muster-Office", map[string]string{"security": "wpa2_wpa3", "band": "dual", "vlan": "10", "notes": "Für Firmengeräte"}, map[string]string{"key": "Kaffee-Pause-am-Fenster-11"}, false); err != nil {
		return nil, err
	}
	if _, err := add("wireless", "Muster-Gast", map[string]string{"security": "wpa2", "band": "dual", "vlan": "99", "guest": "1", "notes": "Für Besucher; kein Zugriff auf das Firmennetz"}, map[string]string{"key": "Willkommen-Gast-2026"}, false); err != nil {
		return nil, err
	}
	wg := "[Interface]\nPrivateKey = oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM=\nAddress = 10.99.0.2/32\nDNS = 192.168.10.10\n\n[Peer]\nPublicKey = GtL7fZc/bLnqZldpVofMCD6hDjrK28SsdLxevJ+qtKU=\nEndpoint = vpn.muster-gmbh.example:51820\nAllowedIPs = 192.168.10.0/24\nPersistentKeepalive = 25\n"
	if _, err := add("vpn", "Homeoffice WireGuard", map[string]string{"kind": "wireguard", "gateway": "vpn.muster-gmbh.example", "port": "51820", "auth": "psk", "notes": "Konfiguration per QR-Code in die WireGuard-App übernehmen."}, map[string]string{"config": wg}, false); err != nil {
		return nil, err
	}
	if _, err := add("vpn", "Standort Hamburg (IPsec)", map[string]string{"kind": "ipsec", "gateway": "203.0.113.10", "port": "500", "auth": "psk", "notes": "Site-to-Site, IKEv2"}, map[string]string{"secret": "Hanse-Tunnel-Brise-2026"}, true); err != nil {
		return nil, err
	}
	if err := addDemoDocuments(ctx, d, org.ID, by); err != nil {
		return nil, err
	}
	if err := demoConnections(ctx, d, s, org); err != nil { // related items and the contract PDF (cmd_demo_links.go)
		return nil, err
	}
	return org, nil
}

// demoProcedureTitle is the emergency procedure's title (cmd_demo_links.go links it).
const demoProcedureTitle = "Internet ist ausgefallen"

// demoInternetDown is the procedure the office manager opens on a phone at 7 a.m.
const demoInternetDown = `Wenn im Büro niemand ins Internet kommt:

1. **Router prüfen:** Leuchtet an der Firewall *FW-01* im Serverraum die Status-LED grün?
2. **Neu starten:** Netzstecker der Firewall ziehen, 30 Sekunden warten, wieder einstecken. Der Start dauert etwa 5 Minuten.
3. **Provider anrufen:** Telekom Geschäftskunden-Hotline **0800 330 1172**, Kundennummer 4711-0815.
4. **Uns anrufen**, wenn es nach 15 Minuten nicht wieder geht — auch außerhalb der Bürozeiten.

| Was | Wo |
| --- | --- |
| Firewall FW-01 | Serverraum, Rack oben |
| Zugangsdaten Firewall | unten verknüpft: „Firewall FW-01“ |
| Vertrag Internetanschluss | unten als PDF angehängt |

Störungsmeldung online: https://www.telekom.de/hilfe/stoerung
`

// addDemoDocuments adds the demo organisation's documents (an emergency procedure among them), a few
// dates that expire and the weekly digest's recipient.
func addDemoDocuments(ctx context.Context, d *db.DB, orgID int64, by db.DocActor) error {
	docs := []db.ArticleChange{
		{Folder: "Notfall", Title: demoProcedureTitle, Body: demoInternetDown, Emergency: true},
		{Folder: "Notfall", Title: "Serverraum: Zutritt außerhalb der Bürozeiten", Body: "Schlüssel bei der **Hausverwaltung Schmidt** (siehe Kontakte), Notfallnummer +49 171 5550100.\n", Emergency: true},
		{Folder: "Onboarding neuer Mitarbeiter", Title: "Neuen Arbeitsplatz einrichten", Body: "- [ ] Benutzer in Microsoft 365 anlegen\n- [ ] Lizenz zuweisen\n- [ ] Notebook aus dem Bestand vorbereiten\n- [ ] WLAN *Muster-Office* einrichten\n"},
		{Folder: "Intern", Title: "Wartungsfenster und Backup-Prüfung", Body: "Monatlich am ersten Dienstag, 18–20 Uhr. Rücksicherung einer Stichprobe aus dem NAS prüfen.\n", StaffOnly: true},
	}
	for _, ch := range docs {
		if _, err := d.ArticleCreate(ctx, orgID, ch, by, nil); err != nil {
			return err
		}
	}
	now := time.Now()
	for _, e := range []db.Expiry{
		{Kind: "licence", Name: "Microsoft 365 Business Standard (12 Lizenzen)", ExpiresOn: now.AddDate(0, 0, 21).Format("2006-01-02")},
		{Kind: "certificate", Name: "vpn.muster-gmbh.example (TLS)", ExpiresOn: now.AddDate(0, 0, 60).Format("2006-01-02")},
		{Kind: "domain", Name: "muster-gmbh.example", ExpiresOn: now.AddDate(0, 5, 0).Format("2006-01-02")},
		{Kind: "contract", Name: "Internetanschluss Telekom", ExpiresOn: now.AddDate(0, 0, -3).Format("2006-01-02")},
	} {
		e.OrgID = orgID
		if _, err := d.ExpiryCreate(ctx, e, nil); err != nil {
			return err
		}
	}
	return d.SetExpiryDigest(ctx, db.ExpiryDigest{OrgID: orgID, Lang: "de", Recipients: []string{"jonas.weber@muster-gmbh.example"}}, nil)
}
