package db

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// TestHotReadsKeepTheirPlan: the reads every page makes are prepared once (stmts.go), and SQLite must not
// prepare them again when the next request binds another organisation, item or person. SQLite calls the
// authorizer while it prepares a statement (and again when it re-prepares one), so the test counts its
// calls on the one reader connection: after the first round, a round for another organisation must not
// call it. The old texts (`org_id = ?` beside a join or an ORDER BY an index could give) were re-prepared
// on every request with another organisation.
func TestHotReadsKeepTheirPlan(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	s, err := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	by := DocActor{Name: "Tech"}
	type orgData struct {
		sc           DocScope
		slug         string
		router, pass int64
		user         int64
		token        string
	}
	var orgs []orgData
	for i := range 3 {
		o, err := d.CreateOrg(ctx, fmt.Sprintf("Org %d", i), fmt.Sprintf("org-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		sc := DocScope{OrgID: o.ID}
		router := mustCreate(t, d, s, DocChange{OrgID: o.ID, Area: "configurations", Name: "Router " + o.Slug})
		pass := mustCreate(t, d, s, DocChange{OrgID: o.ID, Area: "passwords", Name: "Router admin",
			Fields: map[string]string{"username": "admin"}, Secrets: map[string]string{"password": "geheim"}})
		if err := d.DocLinkAdd(ctx, DocScope{OrgID: o.ID, StaffView: true}, router, pass, "", by, nil); err != nil {
			t.Fatal(err)
		}
		art, err := d.ArticleCreate(ctx, o.ID, ArticleChange{Title: "Internet ist ausgefallen", Emergency: true}, by, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.ArticleLinkAdd(ctx, DocScope{OrgID: o.ID, StaffView: true}, art, router, "", by, nil); err != nil {
			t.Fatal(err)
		}
		upload(t, d, s, DocScope{OrgID: o.ID, StaffView: true}, router, []byte("config"))
		uid := newUser(t, d, fmt.Sprintf("p%d@example.com", i))
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return SetMembership(ctx, tx, time.Now(), uid, o.ID, "viewer") }); err != nil {
			t.Fatal(err)
		}
		token := fmt.Sprintf("token-%d", i)
		if err := d.InsertSession(ctx, token, []byte("data"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := d.AddUserSession(ctx, token, uid, 0, "127.0.0.1", "test"); err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, orgData{sc: sc, slug: o.Slug, router: router, pass: pass, user: uid, token: token})
	}

	reads := []struct {
		name string
		read func(o orgData) error
	}{
		{"FindSessionUser", func(o orgData) error {
			r, found, err := d.FindSessionUser(ctx, o.token, o.slug)
			if err == nil && (!found || r.Org == nil || r.Role != "viewer") {
				err = fmt.Errorf("session read %+v, found %v", r, found)
			}
			return err
		}},
		{"Memberships", func(o orgData) error { _, err := d.Memberships(ctx, o.user); return err }},
		{"DocCounts", func(o orgData) error { _, err := d.DocCounts(ctx, o.sc); return err }},
		{"DocNames", func(o orgData) error {
			names, err := d.DocNames(ctx, o.sc, "passwords", []int64{o.pass, o.router})
			if err == nil && len(names) != 1 {
				err = fmt.Errorf("names %v", names)
			}
			return err
		}},
		{"DocGet", func(o orgData) error { _, err := d.DocGet(ctx, o.sc, "configurations", o.router); return err }},
		{"DocLinks", func(o orgData) error { return nonEmpty(d.DocLinks(ctx, o.sc, o.router)) }},
		{"ItemLinkedArticles", func(o orgData) error { return nonEmpty(d.ItemLinkedArticles(ctx, o.sc, o.router)) }},
		{"Files", func(o orgData) error { return nonEmpty(d.Files(ctx, o.sc, OnItem(o.router))) }},
		{"Articles (emergency)", func(o orgData) error {
			return nonEmpty(d.Articles(ctx, ArticleScope{OrgID: o.sc.OrgID}, true))
		}},
		{"DocSecret", func(o orgData) error {
			_, err := d.DocSecret(ctx, s, o.sc, "passwords", o.pass, "password")
			return err
		}},
		{"RecentEntry", func(o orgData) error {
			_, err := d.RecentEntry(ctx, o.user, o.pass, "docs.reveal", "password", false, 5*time.Minute)
			return err
		}},
		{"DocSearch", func(o orgData) error { return nonEmpty(d.DocSearch(ctx, o.sc, false, "router", 50)) }},
		{"ArticleSearch", func(o orgData) error { return nonEmpty(d.ArticleSearch(ctx, o.sc, false, "internet", 50)) }},
		{"CustomFields", func(o orgData) error { _, err := d.CustomFields(ctx); return err }},
		// The group commit's insert of an audited view, on the writer.
		{"AuditOnce", func(o orgData) error {
			wrote, err := d.AuditOnce(ctx, AuditEntry{ActorID: o.user, ActorName: "P", OrgID: o.sc.OrgID, Action: "docs.view",
				Target: fmt.Sprintf("%d:configurations", o.router)}, o.router, 5*time.Minute)
			if err == nil && !wrote {
				err = fmt.Errorf("not written")
			}
			return err
		}},
	}

	// One reader connection and the writer, with an authorizer that counts what SQLite compiles: column
	// reads and inserts of our tables. FTS5 prepares statements of its own (on doc_fts_idx, …, and PRAGMA
	// data_version) as it reads the index, and each transaction its BEGIN and COMMIT; they are not ours
	// to keep.
	d.R.SetMaxOpenConns(1)
	d.R.SetMaxIdleConns(1)
	var compiled atomic.Int64
	count := func(a sqlite.AuthorizerActionCode, table, _, _, _ string) sqlite.AuthorizerReturnCode {
		if (a == sqlite.AuthRead || a == sqlite.AuthInsert) && !strings.Contains(table, "_fts_") {
			compiled.Add(1)
		}
		return sqlite.AuthorizerOK
	}
	for _, pool := range []*sql.DB{d.R, d.W.DB} {
		c, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Raw(func(dc any) error { return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(count) }); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}

	for _, r := range reads {
		if err := r.read(orgs[0]); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if compiled.Load() == 0 {
			t.Fatalf("%s: the authorizer was not called while preparing: the test would prove nothing", r.name)
		}
		compiled.Store(0)
		for _, o := range orgs[1:] {
			if err := r.read(o); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
		}
		if n := compiled.Load(); n != 0 {
			t.Errorf("%s: prepared again for another organisation (%d authorizer calls)", r.name, n)
		}
		compiled.Store(0)
	}

	// A plan that holds for every value is no gain if it reads a whole table: `col = +?` must leave the
	// column's index in use. Every statement the reads above prepared is checked; the full-text tables are
	// scanned by MATCH, and custom_fields is read whole by design (a few rows an administrator defines).
	c, err := d.R.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cache := range []*stmts{&d.stmts, &d.wstmts} {
		cache.m.Range(func(k, _ any) bool {
			q := k.(string)
			rows, err := c.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
			if err != nil {
				t.Errorf("%s: %v", q, err)
				return true
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(detail, "SCAN ") && !strings.Contains(detail, " VIRTUAL TABLE ") && detail != "SCAN CONSTANT ROW" &&
					!strings.HasPrefix(detail, "SCAN (subquery-") && !strings.HasPrefix(detail, "SCAN custom_fields ") {
					t.Errorf("a hot statement reads a whole table (%s):\n%s", detail, q)
				}
			}
			return true
		})
	}
}

// nonEmpty turns an empty answer into an error, so that a read that finds nothing does not pass as kept.
func nonEmpty[T any](list []T, err error) error {
	if err == nil && len(list) == 0 {
		return fmt.Errorf("nothing found")
	}
	return err
}
