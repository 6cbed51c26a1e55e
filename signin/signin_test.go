package signin_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/mailtext"
	"portier/signin"
	"portier/views"
)

const pw = "Richtig-Pferd-7"

type env struct {
	d  *db.DB
	si *signin.Signin
	u  *db.User
}

// newEnv opens a real SQLite file with one person who has a password.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	sealer, err := db.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The smallest argon2id cost the hasher accepts: these tests are about counting, not hashing.
	h, err := auth.NewHasherParams(auth.Params{Memory: 8 << 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	if err != nil {
		t.Fatal(err)
	}
	phc, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if id, _, err = db.EnsureUser(ctx, tx, time.Now(), "anna@kunde.example", "Anna", "en"); err != nil {
			return err
		}
		return db.SetPassword(ctx, tx, time.Now(), id, phc)
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.UserByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://portal.example")
	mails := mailtext.New(b, base, func() views.MSP { return views.MSP{Name: "Muster IT"} })
	return &env{d: d, si: signin.New(d, sealer, h, mails, signin.Config{}), u: u}
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Twenty wrong passwords at once, from twenty addresses: exactly db.LockAfter are checked, the rest find
// the account locked, and then the right password does not sign in either.
func TestParallelWrongPasswordsLockTheAccountOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var mu sync.Mutex
	outcomes := map[signin.Outcome]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.si.Password(ctx, e.u.Email, "falsch", db.AuditEntry{IP: fmt.Sprintf("192.0.2.%d", i+1)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			outcomes[res.Outcome]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if outcomes[signin.Failed] != db.LockAfter || outcomes[signin.Locked] != 20-db.LockAfter {
		t.Fatalf("outcomes %v, want %d failed and %d locked", outcomes, db.LockAfter, 20-db.LockAfter)
	}
	res, err := e.si.Password(ctx, e.u.Email, pw, db.AuditEntry{IP: "198.51.100.1"})
	if err != nil || res.Outcome != signin.Locked {
		t.Fatalf("right password during the lock: %v %v", res.Outcome, err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit WHERE action = 'login.fail' AND actor_id = ?`, e.u.ID); n != db.LockAfter {
		t.Errorf("login.fail audited %d times", n)
	}
}

// An unknown address is refused like a wrong password and audited by its domain only.
func TestUnknownAddressLooksLikeAWrongPassword(t *testing.T) {
	e := newEnv(t)
	res, err := e.si.Password(context.Background(), "typo-Geheim123!@kunde.example", pw, db.AuditEntry{IP: "192.0.2.1"})
	if err != nil || res.Outcome != signin.Failed || res.User != nil {
		t.Fatalf("%+v %v", res, err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit WHERE action = 'login.fail' AND target = '*@kunde.example'`); n != 1 {
		t.Errorf("audited %d times by domain", n)
	}
	if n := e.count(t, `SELECT count(*) FROM audit WHERE target LIKE '%Geheim%'`); n != 0 {
		t.Error("the typed address reached the audit log")
	}
}

// Each recovery code works once, also when it is sent twice at the same moment.
func TestRecoveryCodeSpentOnceUnderParallelUse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	codes, err := e.si.NewRecoveryCodes(ctx, e.u, true, db.AuditEntry{})
	if err != nil || len(codes) != signin.RecoveryCount {
		t.Fatalf("%d codes, %v", len(codes), err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			used, err := e.si.UseRecoveryCode(ctx, e.u, codes[0], db.AuditEntry{})
			if err != nil {
				t.Error(err)
			}
			if used {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("the code worked %d times", ok)
	}
	// New codes replace the old ones: the second old code is dead.
	if _, err := e.si.NewRecoveryCodes(ctx, e.u, false, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if used, err := e.si.UseRecoveryCode(ctx, e.u, codes[1], db.AuditEntry{}); used || err != nil {
		t.Fatalf("an old code after regenerating: %v %v", used, err)
	}
}

// Changing the password ends the person's sessions (a new epoch), queues the notice and audits it in one
// transaction.
func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	epoch, err := e.si.ChangePassword(ctx, e.u, "Neues-Pferd-8", db.AuditEntry{ActorID: e.u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if epoch == e.u.SessionEpoch {
		t.Errorf("session epoch still %d", epoch)
	}
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE to_addr = ? AND kind = 'mail.password_changed'`, e.u.Email); n != 1 {
		t.Errorf("%d notices queued", n)
	}
	if n := e.count(t, `SELECT count(*) FROM audit WHERE action = 'password.change'`); n != 1 {
		t.Errorf("%d audit entries", n)
	}
	res, err := e.si.Password(ctx, e.u.Email, "Neues-Pferd-8", db.AuditEntry{IP: "192.0.2.1"})
	if err != nil || res.Outcome != signin.OK {
		t.Fatalf("new password: %v %v", res.Outcome, err)
	}
}
