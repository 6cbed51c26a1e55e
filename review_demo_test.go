package main

import (
	"context"
	"strings"
	"testing"

	"portier/db"
)

// The demo's emergency procedure is what an office manager follows at 7 a.m.: the hotline it tells them
// to call is the number of the hotline contact it links to (and the contract's), and everything it links
// to is there for the customer to open (a staff-only item would be a dead end).
func TestDemoProcedureNamesTheLinkedHotlineAndLinksOnlyWhatCustomersSee(t *testing.T) {
	c := newAcctCLI(t)
	out, msg, err := c.run("demo")
	if err != nil {
		t.Fatalf("demo: %v %s %s", err, out, msg)
	}
	d := c.db()
	ctx := context.Background()
	org, err := d.OrgBySlug(ctx, "muster")
	if err != nil {
		t.Fatal(err)
	}
	customer := db.ArticleScope{OrgID: org.ID}
	procs, err := d.Articles(ctx, customer, true)
	if err != nil {
		t.Fatal(err)
	}
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	var proc *db.Article
	for _, a := range procs {
		if a.Title == demoProcedureTitle {
			proc = a
		}
	}
	if proc == nil {
		t.Fatal("the emergency procedure is not there for the customer")
	}
	linked, err := d.ArticleLinkedItems(ctx, db.DocScope{OrgID: org.ID}, proc.ID)
	if err != nil {
		t.Fatal(err)
	}
	all, err := d.ArticleLinkedItems(ctx, db.DocScope{OrgID: org.ID, StaffView: true}, proc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(linked) != 3 || len(all) != len(linked) {
		t.Fatalf("customer sees %d of %d linked items", len(linked), len(all))
	}
	found := false
	for _, l := range linked {
		if l.Area != "contacts" {
			continue
		}
		it, err := d.DocGet(ctx, db.DocScope{OrgID: org.ID}, "contacts", l.OtherID)
		if err != nil {
			t.Fatal(err)
		}
		phone := "0" + strings.TrimPrefix(digits(it.Fields["phone"]), "49") // +49 800 … → 0800 …
		for _, line := range strings.Split(proc.Body, "\n") {
			if strings.Contains(line, "Hotline") && strings.Contains(digits(line), phone) {
				found = true
			}
		}
		if !found {
			t.Fatalf("the procedure's hotline is not the linked contact's %s (%s)", it.Fields["phone"], phone)
		}
	}
	if !found {
		t.Fatal("the procedure links no hotline contact")
	}
}
