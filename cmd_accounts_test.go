package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"portier/auth"
	"portier/db"
)

// acctCLI runs subcommands against one data folder, without a running portal.
type acctCLI struct {
	t   *testing.T
	env map[string]string
}

func newAcctCLI(t *testing.T) *acctCLI {
	return &acctCLI{t: t, env: map[string]string{"PORTIER_DATA": filepath.Join(t.TempDir(), "data"), "PORTIER_BASE_URL": "https://portal.example.com", "PORTIER_MSP_NAME": "Muster IT"}}
}

// run returns standard output and standard error separately: scripts read the first.
func (c *acctCLI) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errOut syncBuf
	err = run(context.Background(), args, func(k string) string { return c.env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func (c *acctCLI) db() *db.DB {
	c.t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(c.env["PORTIER_DATA"], "portier.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { d.Close() })
	return d
}

var acctLinkRE = regexp.MustCompile(`^https://portal\.example\.com/invite/([A-Za-z0-9_-]{43})\n$`)

func TestCLIOrgCreate(t *testing.T) {
	c := newAcctCLI(t)
	out, msg, err := c.run("org", "create", "--name", "Müller & Söhne GmbH")
	if err != nil || out != "mueller-soehne-gmbh\n" {
		t.Fatalf("derived slug: %q %v\n%s", out, err, msg)
	}
	out, _, err = c.run("org", "create", "--name", "Muster GmbH", "--slug", "muster")
	if err != nil || out != "muster\n" {
		t.Fatalf("given slug: %q %v", out, err)
	}
	o, err := c.db().OrgBySlug(context.Background(), "muster")
	if err != nil || o.Name != "Muster GmbH" {
		t.Fatalf("stored: %+v %v", o, err)
	}
	var n int
	c.db().R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'org.create'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d audit entries", n)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "create", "--name", "Muster AG", "--slug", "muster"}, "exists already"},
		{[]string{"org", "create", "--name", "Müller & Söhne GmbH"}, "exists already"},
		{[]string{"org", "create", "--name", "Muster", "--slug", "Bad Slug"}, "--slug"},
		{[]string{"org", "create", "--name", "Muster", "--slug", "-muster"}, "--slug"},
		{[]string{"org", "create", "--name", "   "}, "--name is required"},
		{[]string{"org", "create", "--name", "!!!"}, "--slug"},
		{[]string{"org", "create", "--name", strings.Repeat("x", 101)}, "at most 100"},
		{[]string{"org", "create", "--name", "a\tb"}, "not allowed"},
		{[]string{"org", "remove", "--name", "x"}, "org create"},
		{[]string{"org"}, "org create"},
	} {
		out, _, err := c.run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || out != "" {
			t.Errorf("%q: %v (stdout %q), want one line with %q", tc.args, err, out, tc.want)
		}
	}
}

func TestCLIInviteAndAdminCreate(t *testing.T) {
	c := newAcctCLI(t)
	if _, _, err := c.run("org", "create", "--name", "Muster GmbH"); err != nil {
		t.Fatal(err)
	}
	out, msg, err := c.run("invite", "--org", "muster-gmbh", "--email", " Anna@Kunde.example ", "--name", "Anna Beispiel", "--lang", "en")
	if err != nil {
		t.Fatalf("invite: %v\n%s", err, msg)
	}
	m := acctLinkRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("stdout is not the link alone: %q", out)
	}
	if !strings.Contains(msg, "mail worker") || !strings.Contains(msg, "anna@kunde.example as viewer") {
		t.Errorf("explanation: %q", msg)
	}
	d := c.db()
	ctx := context.Background()
	hash, err := auth.HashToken(m[1])
	if err != nil {
		t.Fatal(err)
	}
	inv, err := d.InvitationByToken(ctx, hash)
	if err != nil || inv.Status != db.InvitePending || inv.Role != "viewer" || inv.OrgSlug != "muster-gmbh" ||
		inv.Email != "anna@kunde.example" || inv.Name != "Anna Beispiel" || inv.Lang != "en" {
		t.Fatalf("invitation: %+v %v", inv, err)
	}
	var queued int
	d.R.QueryRow(`SELECT count(*) FROM outbox WHERE to_addr = 'anna@kunde.example' AND sent_at IS NULL`).Scan(&queued)
	if queued != 1 {
		t.Fatalf("%d mails queued", queued)
	}

	out, msg, err = c.run("admin", "create", "--email", "chef@muster-it.example", "--name", "Chef")
	if err != nil {
		t.Fatalf("admin create: %v\n%s", err, msg)
	}
	m = acctLinkRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("admin create stdout: %q", out)
	}
	hash, _ = auth.HashToken(m[1])
	inv, err = d.InvitationByToken(ctx, hash)
	if err != nil || inv.OrgID != 0 || inv.Role != "admin" || inv.Lang != "de" {
		t.Fatalf("admin invitation: %+v %v", inv, err)
	}
	// An administrator once the invitation is accepted, not before; the console's setup link is not
	// offered meanwhile.
	if n, _ := d.CountAdmins(ctx); n != 0 {
		t.Fatalf("%d admins before accepting", n)
	}
	if n, _ := d.AdminsOrInvited(ctx); n != 1 {
		t.Fatalf("%d admins or invited", n)
	}
	// The manager role, and a second invitation replacing the first.
	out, _, err = c.run("invite", "--org", "muster-gmbh", "--email", "anna@kunde.example", "--role", "manager")
	if err != nil || acctLinkRE.FindStringSubmatch(out) == nil {
		t.Fatalf("re-invite: %v %q", err, out)
	}
	if old, _ := d.InvitationByToken(ctx, acctHash(t, acctLinkRE.FindStringSubmatch(out)[1])); old.Role != "manager" {
		t.Fatalf("role %q", old.Role)
	}

	seedAccounts(t, d)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"invite", "--org", "muster-gmbh"}, "--email is required"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", "anna"}, "not a valid e-mail address"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", "Anna <anna@kunde.example>"}, "not a valid e-mail address"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", "a@b\nc.example"}, "not a valid e-mail address"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", strings.Repeat("a", 250) + "@b.example"}, "at most 254 bytes"},
		{[]string{"invite", "--org", "nope", "--email", "x@kunde.example"}, `no organisation with the slug "nope"`},
		{[]string{"invite", "--email", "x@kunde.example"}, "--org SLUG is required"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", "x@kunde.example", "--role", "admin"}, "--role"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", "x@kunde.example", "--lang", "fr"}, "--lang"},
		{[]string{"invite", "--org", "muster-gmbh", "--email", "x@kunde.example", "--name", "a\x00b"}, "--name"},
		{[]string{"admin", "create", "--email", "nobody"}, "not a valid e-mail address"},
		{[]string{"admin", "delete"}, "admin create"},
		// The command line asks the same policy as the web: staff are no customer members, customers no staff.
		{[]string{"invite", "--org", "muster-gmbh", "--email", "staff@muster-it.example"}, "belongs to MSP staff"},
		{[]string{"admin", "create", "--email", "cora@kunde.example"}, "belongs to a customer"},
	} {
		out, _, err := c.run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || out != "" {
			t.Errorf("%q: %v (stdout %q), want one line with %q", tc.args, err, out, tc.want)
		}
	}
	var people int
	d.R.QueryRow(`SELECT count(*) FROM users WHERE email LIKE 'x@%'`).Scan(&people)
	if people != 0 {
		t.Error("a refused invitation created a person")
	}
}

func acctHash(t *testing.T, raw string) []byte {
	t.Helper()
	h, err := auth.HashToken(raw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHelpListsAccountCommands(t *testing.T) {
	var out syncBuf
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"admin create --email", "org create --name", "invite --org SLUG"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// seedAccounts adds an active staff member and an active customer of muster-gmbh, as accepted
// invitations would have left them.
func seedAccounts(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	o, err := d.OrgBySlug(ctx, "muster-gmbh")
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		now := d.Now()
		staff, _, err := db.EnsureUser(ctx, tx, now, "staff@muster-it.example", "Sam", "de")
		if err != nil {
			return err
		}
		if err := db.SetStaffRole(ctx, tx, staff, "technician"); err != nil {
			return err
		}
		cora, _, err := db.EnsureUser(ctx, tx, now, "cora@kunde.example", "Cora", "de")
		if err != nil {
			return err
		}
		return db.SetMembership(ctx, tx, now, cora, o.ID, "viewer")
	})
	if err != nil {
		t.Fatal(err)
	}
}
