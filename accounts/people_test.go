package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"

	"portier/access"
	"portier/accounts"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/mailtext"
	"portier/views"
)

// The last enabled administrator stays also when the command line and the web disable at the same moment,
// each from its own process (here: its own connections to the same file): the operator disables
// administrator A while A, on the staff pages, disables B, the only other one. Whichever commits first
// wins; the other finds either no other enabled administrator (ErrLastAdmin) or an actor disabled
// meanwhile (access.ErrNotFound). Never both.
func TestLastAdminHoldsBetweenCommandLineAndWeb(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		web := newEnv(t)
		cliDB, err := db.Open(ctx, web.d.Path)
		if err != nil {
			t.Fatal(err)
		}
		sealer, _ := db.NewSealer(make([]byte, 32))
		b, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		base, _ := url.Parse("https://portal.example")
		cli := accounts.New(cliDB, sealer, auth.NewHasher(1),
			mailtext.New(b, base, func() views.MSP { return views.MSP{Name: "Muster IT"} }), accounts.Config{})
		var admins [2]*db.User
		for i, addr := range []string{"a@muster-it.example", "b@muster-it.example"} {
			if _, err := web.acc.Invite(ctx, accounts.InviteRequest{Email: addr, Lang: "de", Role: access.Admin, By: access.Operator(), NoMail: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := web.d.W.Exec(`UPDATE users SET staff_role = 'admin' WHERE email = ?`, addr); err != nil {
				t.Fatal(err)
			}
			if admins[i], err = web.d.UserByEmail(ctx, addr); err != nil {
				t.Fatal(err)
			}
		}
		a, bb := admins[0], admins[1]
		var wg sync.WaitGroup
		var webErr, cliErr error
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, webErr = web.acc.SetDisabled(ctx, access.Person{ID: a.ID}, 0, bb, true, db.AuditEntry{ActorID: a.ID})
		}()
		go func() {
			defer wg.Done()
			<-start
			_, cliErr = cli.SetDisabled(ctx, access.Operator(), 0, a, true, db.AuditEntry{UserAgent: "portier command line"})
		}()
		close(start)
		wg.Wait()
		cliDB.Close()
		var enabled, logged int
		if err := web.d.R.QueryRow(`SELECT count(*) FROM users WHERE staff_role = 'admin' AND disabled_at IS NULL`).Scan(&enabled); err != nil {
			t.Fatal(err)
		}
		if err := web.d.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'user.disable'`).Scan(&logged); err != nil {
			t.Fatal(err)
		}
		ok := (webErr == nil && errors.Is(cliErr, accounts.ErrLastAdmin)) || (cliErr == nil && errors.Is(webErr, access.ErrNotFound))
		if enabled != 1 || logged != 1 || !ok {
			t.Fatalf("round %d: %d administrators enabled, %d disablings logged; web: %v, command line: %v", round, enabled, logged, webErr, cliErr)
		}
	}
}
