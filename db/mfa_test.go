package db

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func addTOTP(t *testing.T, d *DB, s *Sealer, user int64, secret string, step int64) int64 {
	t.Helper()
	var id int64
	if err := d.Tx(context.Background(), func(tx *sql.Tx) (err error) {
		id, err = AddTOTP(context.Background(), tx, s, d.Now(), user, "Handy", []byte(secret), step)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// An app's secret is sealed to its row; a code's time step is accepted once, by one of parallel requests,
// and never again nor an earlier step (the enrolment's own step included).
func TestTOTPSecretSealedAndStepConsumedOnce(t *testing.T) {
	d := openTemp(t)
	s := testSealer(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	const secret = "JBSWY3DPEHPK3PXP-totp-geheim"
	id := addTOTP(t, d, s, u, secret, 100)
	m, err := d.MFAMethodOf(ctx, u, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.TOTPSecret(s); err != nil || string(got) != secret {
		t.Fatalf("secret %q %v", got, err)
	}
	notInFiles(t, d, secret)
	if ok, _ := d.ConsumeTOTPStep(ctx, id, 100); ok {
		t.Fatal("the enrolment code was accepted again")
	}
	if won := race(t, 8, func(int) (bool, error) { return d.ConsumeTOTPStep(ctx, id, 101) }); won != 1 {
		t.Fatalf("step 101 accepted %d times", won)
	}
	for _, step := range []int64{101, 99} {
		if ok, _ := d.ConsumeTOTPStep(ctx, id, step); ok {
			t.Fatalf("step %d accepted after 101", step)
		}
	}
	if ok, _ := d.ConsumeTOTPStep(ctx, id, 102); !ok {
		t.Fatal("the next step was refused")
	}
	// Another person's method is not theirs to read.
	other := newUser(t, d, "lou@alpha.example")
	if _, err := d.MFAMethodOf(ctx, other, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another person's method: %v", err)
	}
	if err := d.RenameMFAMethod(ctx, other, id, "Mine"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another person renamed the method: %v", err)
	}
}

// A recovery code is spent once, by one of parallel requests, only by its owner; a new set kills the old.
func TestRecoveryCodeSpentOnce(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	u, other := newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example")
	codes := [][]byte{[]byte("code-1"), []byte("code-2"), []byte("code-3")}
	replace := func(user int64, hs [][]byte) {
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return ReplaceRecoveryCodes(ctx, tx, d.Now(), user, hs) }); err != nil {
			t.Fatal(err)
		}
	}
	replace(u, codes)
	if ok, _ := d.UseRecoveryCode(ctx, other, codes[0]); ok {
		t.Fatal("another person spent the code")
	}
	if won := race(t, 8, func(int) (bool, error) { return d.UseRecoveryCode(ctx, u, codes[0]) }); won != 1 {
		t.Fatalf("one code spent %d times", won)
	}
	if n, _ := d.RecoveryCodesLeft(ctx, u); n != 2 {
		t.Fatalf("%d left, want 2", n)
	}
	replace(u, [][]byte{[]byte("code-4")})
	if ok, _ := d.UseRecoveryCode(ctx, u, codes[1]); ok {
		t.Fatal("a code of the old set still works")
	}
	if n, _ := d.RecoveryCodesLeft(ctx, u); n != 1 {
		t.Fatalf("%d left after a new set, want 1", n)
	}
}

func matches(code []byte) func([]byte) bool {
	return func(h []byte) bool { return subtle.ConstantTimeCompare(h, code) == 1 }
}

// An e-mail code: only the newest mail's code works, five wrong tries void it even when they come at once,
// and a right code is spent by exactly one of parallel requests.
func TestEmailCodeTriesAndSpending(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	first, second := []byte("hash-111111"), []byte("hash-222222")
	if err := d.CreateEmailCode(ctx, u, "login", "a1", "Kim@Alpha.example", first); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateEmailCode(ctx, u, "login", "a1", "kim@alpha.example", second); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := d.CheckEmailCode(ctx, u, "login", "a1", matches(first)); r != EmailCodeWrong {
		t.Fatalf("the older mail's code: %v", r)
	}
	// Ten wrong tries at once: exactly the remaining four count, the rest find no live code.
	wrong := race(t, 10, func(int) (bool, error) {
		r, _, err := d.CheckEmailCode(ctx, u, "login", "a1", matches([]byte("nope")))
		return r == EmailCodeWrong, err
	})
	if wrong != EmailCodeMaxTries-1 {
		t.Fatalf("%d wrong tries counted, want %d", wrong, EmailCodeMaxTries-1)
	}
	if r, _, _ := d.CheckEmailCode(ctx, u, "login", "a1", matches(second)); r != EmailCodeNone {
		t.Fatalf("the right code after five wrong ones: %v", r)
	}
	if live, _, _ := d.LiveEmailCode(ctx, u, "login", "a1"); live {
		t.Fatal("a voided code is still live")
	}
	third := []byte("hash-333333")
	if err := d.CreateEmailCode(ctx, u, "login", "a1", "kim@alpha.example", third); err != nil {
		t.Fatal(err)
	}
	ok := race(t, 8, func(int) (bool, error) {
		r, email, err := d.CheckEmailCode(ctx, u, "login", "a1", matches(third))
		if r == EmailCodeOK && email != "kim@alpha.example" {
			return false, fmt.Errorf("code went to %q", email)
		}
		return r == EmailCodeOK, err
	})
	if ok != 1 {
		t.Fatalf("one code accepted %d times", ok)
	}
	// Another attempt's code is not this attempt's.
	if err := d.CreateEmailCode(ctx, u, "login", "a2", "kim@alpha.example", first); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := d.CheckEmailCode(ctx, u, "login", "a3", matches(first)); r != EmailCodeNone {
		t.Fatalf("code of attempt a2 checked for a3: %v", r)
	}
	// After ten minutes it is gone.
	later := time.Now().Add(EmailCodeTTL + time.Second)
	d.Now = func() time.Time { return later }
	if r, _, _ := d.CheckEmailCode(ctx, u, "login", "a2", matches(first)); r != EmailCodeNone {
		t.Fatalf("expired code: %v", r)
	}
}

// Two removals at the same moment of a person's two methods leave one: the last factor stays.
func TestLastFactorSurvivesParallelRemovals(t *testing.T) {
	d := openTemp(t)
	s := testSealer(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	ids := []int64{addTOTP(t, d, s, u, "a", 1), addTOTP(t, d, s, u, "b", 1)}
	var lastRefused atomic.Int32
	won := race(t, 2, func(i int) (bool, error) {
		err := d.Tx(ctx, func(tx *sql.Tx) error { return RemoveMFAMethod(ctx, tx, u, ids[i]) })
		if errors.Is(err, ErrLastFactor) {
			lastRefused.Add(1)
			return false, nil
		}
		return err == nil, err
	})
	if n, _ := d.CountMFAMethods(ctx, u); won != 1 || lastRefused.Load() != 1 || n != 1 {
		t.Fatalf("removed %d, refused %d, left %d", won, lastRefused.Load(), n)
	}
	other := newUser(t, d, "lou@alpha.example")
	addTOTP(t, d, s, other, "c", 1)
	addTOTP(t, d, s, other, "d", 1)
	left, _ := d.MFAMethods(ctx, u)
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return RemoveMFAMethod(ctx, tx, other, left[0].ID) }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another person removed the method: %v", err)
	}
}

// A passkey's signature count must grow (a copy of the authenticator replays an old count); one without a
// counter (0) is accepted every time; a credential is registered once.
func TestPasskeyCountAndCredential(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	add := func(cred string, count uint32) (int64, error) {
		var id int64
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			id, err = AddPasskey(ctx, tx, d.Now(), u, Passkey{Name: "Laptop", CredentialID: []byte(cred), PublicKey: []byte("pk"), SignCount: count, Transports: []string{"usb", "nfc"}})
			return err
		})
		return id, err
	}
	counted, err := add("cred-1", 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := add("cred-1", 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("a credential registered twice: %v", err)
	}
	for _, c := range []struct {
		count uint32
		ok    bool
	}{{5, false}, {4, false}, {6, true}, {6, false}, {0, false}} {
		if ok, _ := d.UsePasskey(ctx, counted, c.count, 0, false); ok != c.ok {
			t.Fatalf("count %d accepted=%v", c.count, ok)
		}
	}
	// Of parallel assertions with the same new count one passes.
	if won := race(t, 6, func(int) (bool, error) { return d.UsePasskey(ctx, counted, 9, 0, false) }); won != 1 {
		t.Fatalf("count 9 accepted %d times", won)
	}
	zero, _ := add("cred-2", 0)
	for i := 0; i < 2; i++ {
		if ok, _ := d.UsePasskey(ctx, zero, 0, 0, true); !ok {
			t.Fatal("an authenticator without a counter was refused")
		}
	}
	m, _ := d.MFAMethodOf(ctx, u, counted)
	if m.SignCount != 9 || len(m.Transports) != 2 || !bytes.Equal(m.CredentialID, []byte("cred-1")) {
		t.Fatalf("stored passkey %+v", m)
	}
}

// A WebAuthn challenge is answered once.
func TestChallengeSpentOnce(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	h := []byte("challenge-hash")
	if won := race(t, 8, func(int) (bool, error) { return d.SpendChallenge(ctx, h, time.Now().Add(time.Minute)) }); won != 1 {
		t.Fatalf("challenge answered %d times", won)
	}
}

// A reset of second factors leaves the person with none, no codes and no sessions.
func TestResetMFALeavesNothing(t *testing.T) {
	d := openTemp(t)
	s := testSealer(t)
	ctx := context.Background()
	u, other := newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example")
	for _, p := range []int64{u, other} {
		addTOTP(t, d, s, p, "x", 1)
		d.Tx(ctx, func(tx *sql.Tx) error {
			return ReplaceRecoveryCodes(ctx, tx, d.Now(), p, [][]byte{[]byte(fmt.Sprint("c", p))})
		})
		if err := d.CreateEmailCode(ctx, p, "login", "a", "x@alpha.example", []byte("h")); err != nil {
			t.Fatal(err)
		}
		if err := d.AddUserSession(ctx, fmt.Sprint("tok-", p), p, 0, "192.0.2.1", "ua"); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return ResetMFA(ctx, tx, u) }); err != nil {
		t.Fatal(err)
	}
	n, _ := d.CountMFAMethods(ctx, u)
	left, _ := d.RecoveryCodesLeft(ctx, u)
	live, _, _ := d.LiveEmailCode(ctx, u, "login", "a")
	sess, _ := d.UserSessions(ctx, u)
	if n != 0 || left != 0 || live || len(sess) != 0 {
		t.Fatalf("after reset: %d methods, %d codes, live code %v, %d sessions", n, left, live, len(sess))
	}
	n, _ = d.CountMFAMethods(ctx, other)
	left, _ = d.RecoveryCodesLeft(ctx, other)
	sess, _ = d.UserSessions(ctx, other)
	if n != 1 || left != 1 || len(sess) != 1 {
		t.Fatal("the reset reached another person")
	}
}
