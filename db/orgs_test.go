package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// Organisations: a slug is taken once (also by parallel creations), lists are by name regardless of case
// with their member counts, and a person's role is answered per organisation only.
func TestOrgsSlugsListsAndRoles(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	created := race(t, 4, func(int) (bool, error) {
		_, err := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
		if errors.Is(err, ErrConflict) {
			return false, nil
		}
		return err == nil, err
	})
	if created != 1 {
		t.Fatalf("slug alpha created %d times", created)
	}
	a, _ := d.OrgBySlug(ctx, "alpha")
	b, err := d.CreateOrg(ctx, "  beta AG ", "beta")
	if err != nil || b.Name != "beta AG" {
		t.Fatalf("name not trimmed: %q %v", b.Name, err)
	}
	c, _ := d.CreateOrg(ctx, "Gamma KG", "gamma")
	kim, lou := newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example")
	d.Tx(ctx, func(tx *sql.Tx) error {
		SetMembership(ctx, tx, d.Now(), kim, a.ID, "viewer")
		SetMembership(ctx, tx, d.Now(), kim, a.ID, "manager") // a second call changes the role
		SetMembership(ctx, tx, d.Now(), lou, a.ID, "viewer")
		return SetMembership(ctx, tx, d.Now(), kim, b.ID, "viewer")
	})
	orgs, _ := d.Orgs(ctx)
	if len(orgs) != 3 || orgs[0].Slug != "alpha" || orgs[1].Slug != "beta" || orgs[2].Slug != "gamma" || orgs[0].People != 2 || orgs[2].People != 0 {
		t.Fatalf("orgs %+v", orgs)
	}
	if r, _ := d.MemberRole(ctx, kim, a.ID); r != "manager" {
		t.Fatalf("role %q", r)
	}
	if _, err := d.MemberRole(ctx, lou, b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a non-member has a role: %v", err)
	}
	// The organisation of a page comes with the session: kim's, read for each slug.
	if err := d.InsertSession(ctx, "kim-token", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.AddUserSession(ctx, "kim-token", kim, 0, "127.0.0.1", "test"); err != nil {
		t.Fatal(err)
	}
	read := func(slug string) SessionRead {
		t.Helper()
		r, found, err := d.FindSessionUser(ctx, "kim-token", slug)
		if err != nil || !found || r.User == nil || r.User.ID != kim || string(r.Data) != "data" {
			t.Fatalf("session read for %q: %+v %v %v", slug, r, found, err)
		}
		return r
	}
	if r := read("gamma"); r.Org == nil || r.Org.ID != c.ID || r.Org.Slug != "gamma" || r.Org.Name != "Gamma KG" || r.Role != "" || r.Memberships != 2 {
		t.Fatalf("outsider: %+v %+v", r, r.Org)
	}
	if r := read("alpha"); r.Org == nil || r.Org.ID != a.ID || r.Role != "manager" {
		t.Fatalf("member: %+v", r)
	}
	if r := read("nope"); r.Org != nil || r.Role != "" || r.Memberships != 2 {
		t.Fatalf("unknown slug: %+v", r)
	}
	if r := read(""); r.Org != nil || r.Role != "" {
		t.Fatalf("no slug: %+v", r)
	}
	// lou's role in alpha is not kim's.
	if err := d.InsertSession(ctx, "lou-token", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.AddUserSession(ctx, "lou-token", lou, 0, "127.0.0.1", "test"); err != nil {
		t.Fatal(err)
	}
	if r, _, err := d.FindSessionUser(ctx, "lou-token", "alpha"); err != nil || r.Role != "viewer" || r.Memberships != 1 {
		t.Fatalf("lou: %+v %v", r, err)
	}
	ms, _ := d.Memberships(ctx, kim)
	if len(ms) != 2 || ms[0].Org.Slug != "alpha" || ms[1].Role != "viewer" {
		t.Fatalf("memberships %+v", ms)
	}
	people, _ := d.OrgPeople(ctx, b.ID)
	if len(people) != 1 || people[0].UserID != kim || people[0].Role != "viewer" || people[0].Active {
		t.Fatalf("people of beta %+v", people)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Müller & Söhne GmbH": "mueller-soehne-gmbh",
		"  --Café  Zürich-- ": "cafe-zuerich",
		"ÄÖÜ ß":               "aeoeue-ss",
		"日本":                  "",
	} {
		if got := Slugify(in); got != want || (got != "" && !ValidSlug(got)) {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHasOrgs(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if any, err := d.HasOrgs(ctx); err != nil || any {
		t.Fatalf("empty database: %v %v", any, err)
	}
	if _, err := d.CreateOrg(ctx, "Alpha GmbH", "alpha"); err != nil {
		t.Fatal(err)
	}
	if any, err := d.HasOrgs(ctx); err != nil || !any {
		t.Fatalf("one organisation: %v %v", any, err)
	}
}

// The organisation and the role come only with the person the session is listed for: a session whose
// person ended it (epoch raised), an anonymous one, an expired one or an unknown token reads no
// organisation, no role and no counts, whatever slug is asked for; and the slug is matched exactly.
func TestSessionReadGivesNoOrganisationWithoutItsPerson(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	kim := newUser(t, d, "kim@alpha.example")
	d.Tx(ctx, func(tx *sql.Tx) error { return SetMembership(ctx, tx, d.Now(), kim, a.ID, "manager") })
	for _, tok := range []string{"ended", "anon", "expired", "live"} {
		exp := time.Now().Add(time.Hour)
		if tok == "expired" {
			exp = time.Now().Add(-time.Second)
		}
		if err := d.InsertSession(ctx, tok, []byte(tok), exp); err != nil {
			t.Fatal(err)
		}
		if tok != "anon" {
			if err := d.AddUserSession(ctx, tok, kim, 0, "127.0.0.1", "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// "ended" is listed at epoch 0 again after kim's epoch went up (a sign-in that checked the password
	// before the sessions were ended).
	if err := d.EndOtherSessions(ctx, kim, "live"); err != nil {
		t.Fatal(err)
	}
	if err := d.InsertSession(ctx, "ended", []byte("ended"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.AddUserSession(ctx, "ended", kim, 0, "127.0.0.1", "test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token string
		found bool
	}{{"ended", true}, {"anon", true}, {"expired", false}, {"nobody", false}} {
		r, found, err := d.FindSessionUser(ctx, c.token, "alpha")
		if err != nil || found != c.found || r.User != nil || r.Org != nil || r.Role != "" || r.Memberships != 0 || r.Factors != 0 {
			t.Errorf("%s: %+v found %v %v", c.token, r, found, err)
		}
		if found && string(r.Data) != c.token {
			t.Errorf("%s: data %q", c.token, r.Data)
		}
	}
	for slug, want := range map[string]bool{"alpha": true, "ALPHA": false, "alpha ": false, "alph": false, "%": false, "alpha%": false} {
		r, found, err := d.FindSessionUser(ctx, "live", slug)
		if err != nil || !found || r.User == nil || r.User.ID != kim || r.Memberships != 1 {
			t.Fatalf("live, %q: %+v %v %v", slug, r, found, err)
		}
		if (r.Org != nil) != want || (r.Role == "manager") != want {
			t.Errorf("live, %q: org %+v role %q", slug, r.Org, r.Role)
		}
	}
}
