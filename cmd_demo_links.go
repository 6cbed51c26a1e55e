package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"portier/db"
	"portier/docs"
	"portier/handlers"
)

// demoConnections adds to the demo organisation what issue 13's 7 a.m. story needs one tap apart: the
// provider's hotline, the devices linked to their admin passwords, Wi-Fi, VPN and contacts, the internet
// contract as a PDF on the firewall, and the emergency procedure "Internet ist ausgefallen" linked to the
// router, its admin password and the hotline, with the contract attached: router → admin password →
// hotline → procedure → contract, each one tap from the others.
func demoConnections(ctx context.Context, d *db.DB, s *db.Sealer, org *db.Org) error {
	by := db.DocActor{Name: "Demo"}
	staff := db.DocScope{OrgID: org.ID, StaffView: true}
	_, err := d.DocCreate(ctx, s, db.DocChange{OrgID: org.ID, Area: "contacts", Name: "Telekom Geschäftskunden-Hotline",
		Fields: map[string]string{"title": "Internetanbieter, Störungsannahme 24/7", "phone": "+49 800 3301172",
			"notes": "Kundennummer 4711-0815, Anschluss FW-01 (Glasfaser 500/100)"}}, by, nil)
	if err != nil {
		return err
	}
	_, err = d.DocCreate(ctx, s, db.DocChange{OrgID: org.ID, Area: "passwords", Name: "Firewall FW-01",
		Fields:  map[string]string{"category": "network", "username": "admin", "url": "https://192.168.10.1:4444"},
		Secrets: map[string]string{"password": "Glasfaser!Morgen-0700"}}, by, nil)
	if err != nil {
		return err
	}
	ids := map[string]int64{}
	for _, area := range docs.Areas {
		items, err := d.DocAll(ctx, org.ID, area.Name)
		if err != nil {
			return err
		}
		for _, it := range items {
			ids[it.Name] = it.ID
		}
	}
	links := []struct{ a, b, label string }{
		{"FW-01", "Firewall FW-01", "Admin-Zugang"},
		{"FW-01", "Telekom Geschäftskunden-Hotline", "Internetanschluss"},
		{"FW-01", "Jonas Weber", "Ansprechpartner vor Ort"},
		{"FW-01", "Homeoffice WireGuard", "VPN-Endpunkt"},
		{"FW-01", "Standort Hamburg (IPsec)", "VPN-Endpunkt"},
		{"NAS-01", "NAS Administrator", "Admin-Zugang"},
		{"AP-Empfang", "WLAN-Router Empfang", "Admin-Zugang"},
		{"AP-Empfang", "Muster-Office", "strahlt aus"},
		{"AP-Empfang", "Muster-Gast", "strahlt aus"},
		{"SRV-DC01", "Domänen-Administrator", "Admin-Zugang"},
		{"SRV-DC01", "Jonas Weber", "Ansprechpartner vor Ort"},
	}
	for _, l := range links {
		a, b := ids[l.a], ids[l.b]
		if a == 0 || b == 0 {
			return fmt.Errorf("demo link %s ↔ %s: entry missing", l.a, l.b)
		}
		if err := d.DocLinkAdd(ctx, staff, a, b, l.label, by, nil); err != nil {
			return fmt.Errorf("demo link %s ↔ %s: %w", l.a, l.b, err)
		}
	}
	pdf := contractPDF("Vertrag Internetanschluss", []string{
		"Telekom Deutschland GmbH - Geschaeftskunden",
		"Kunde: Muster GmbH, Kundennummer 4711-0815",
		"Produkt: Glasfaser Business 500/100, feste IPv4 203.0.113.10",
		"Entstoerung: 24/7, Reaktionszeit 4 Stunden",
		"Hotline: 0800 330 1172",
		"Laufzeit: 24 Monate, Kuendigungsfrist 3 Monate",
	})
	for _, name := range []string{"FW-01", "Telekom Geschäftskunden-Hotline"} {
		if _, err := d.AttachmentCreate(ctx, s, staff, db.AttachmentUpload{ItemID: ids[name],
			Name: "Vertrag Internetanschluss Telekom.pdf", Max: handlers.DefaultAttachmentMax, Check: docs.FileType}, bytes.NewReader(pdf), by, nil); err != nil {
			return err
		}
	}
	return demoProcedureLinks(ctx, d, s, org, ids, pdf)
}

// demoProcedureLinks links the emergency procedure to what it tells the reader to use, and attaches the
// contract to it.
func demoProcedureLinks(ctx context.Context, d *db.DB, s *db.Sealer, org *db.Org, ids map[string]int64, pdf []byte) error {
	by := db.DocActor{Name: "Demo"}
	staff := db.DocScope{OrgID: org.ID, StaffView: true}
	procedures, err := d.Articles(ctx, db.ArticleScope{OrgID: org.ID, StaffView: true}, true)
	if err != nil {
		return err
	}
	var proc int64
	for _, a := range procedures {
		if a.Title == demoProcedureTitle {
			proc = a.ID
		}
	}
	if proc == 0 {
		return fmt.Errorf("demo procedure %q missing", demoProcedureTitle)
	}
	for _, l := range []struct{ item, label string }{
		{"FW-01", "Router"},
		{"Firewall FW-01", "Zugangsdaten Router"},
		{"Telekom Geschäftskunden-Hotline", "Störung melden"},
	} {
		if err := d.ArticleLinkAdd(ctx, staff, proc, ids[l.item], l.label, by, nil); err != nil {
			return fmt.Errorf("demo link %s ↔ %s: %w", demoProcedureTitle, l.item, err)
		}
	}
	_, err = d.AttachmentCreate(ctx, s, staff, db.AttachmentUpload{ItemID: proc, OnArticle: true,
		Name: "Vertrag Internetanschluss Telekom.pdf", Max: handlers.DefaultAttachmentMax, Check: docs.FileType}, bytes.NewReader(pdf), by, nil)
	return err
}

// contractPDF writes a small, valid one-page PDF (PDF 1.4, Helvetica, WinAnsi text) with a title and
// lines, computing the cross-reference offsets, so the demo needs no file.
func contractPDF(title string, lines []string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	var content strings.Builder
	content.WriteString("BT /F1 20 Tf 72 770 Td (" + esc.Replace(title) + ") Tj ET\n")
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 12 Tf 72 %d Td (%s) Tj ET\n", 730-i*20, esc.Replace(l))
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
