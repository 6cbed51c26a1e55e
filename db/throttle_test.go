package db

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"
)

// The reservation rules, straight on the database: the lock starts at 1 minute after 10 failures and
// doubles up to 15, a refusal writes nothing, a passed check releases its reservation, five wrong codes
// void a sign-in attempt, and the address is refused at 30.
func TestReserveAttemptRules(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	d.Now = func() time.Time { return now }
	var uid int64
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		uid, _, err = EnsureUser(ctx, tx, now, "anna@muster.example", "Anna", "de")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	reserve := func(a Attempt) Reservation {
		t.Helper()
		r, err := d.ReserveAttempt(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	counts := func() (fails, mfa int, locked time.Duration) {
		t.Helper()
		var until int64
		if err := d.R.QueryRow(`SELECT failed_logins, mfa_failures, locked_until FROM users WHERE id = ?`, uid).Scan(&fails, &mfa, &until); err != nil {
			t.Fatal(err)
		}
		if until > now.Unix() {
			locked = time.Unix(until, 0).Sub(now)
		}
		return fails, mfa, locked
	}
	pw := Attempt{Kind: AttemptPassword, UserID: uid, IP: "192.0.2.1"}

	// A passed check releases its reservation.
	if r := reserve(pw); r.Refused != NotRefused {
		t.Fatalf("first attempt refused: %v", r.Refused)
	} else if err := d.Succeeded(ctx, r); err != nil {
		t.Fatal(err)
	}
	if f, _, _ := counts(); f != 0 || countIP(t, d, pw.IP) != 0 {
		t.Fatalf("a passed check stayed counted: %d failures, %d for the address", f, countIP(t, d, pw.IP))
	}

	// Ten failures lock for a minute; during the lock nothing is reserved and nothing is written.
	for range LockAfter {
		if r := reserve(pw); r.Refused != NotRefused {
			t.Fatalf("refused before the lock: %v", r.Refused)
		}
	}
	if f, _, l := counts(); f != LockAfter || l != LockFirst {
		t.Fatalf("after %d failures: count %d, lock %s", LockAfter, f, l)
	}
	if r := reserve(pw); r.Refused != RefusedLocked {
		t.Fatalf("during the lock: %v", r.Refused)
	}
	if f, _, _ := counts(); f != LockAfter || countIP(t, d, pw.IP) != LockAfter {
		t.Fatalf("a refusal was counted: %d failures, %d for the address", f, countIP(t, d, pw.IP))
	}
	// After the lock, each failure doubles it, up to 15 minutes.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, LockMax, LockMax} {
		now = now.Add(LockMax)
		if r := reserve(pw); r.Refused != NotRefused {
			t.Fatalf("after the lock ran out: %v", r.Refused)
		}
		if _, _, l := counts(); l != want {
			t.Fatalf("lock %s, want %s", l, want)
		}
	}

	// Five wrong codes void a sign-in attempt; the codes count towards the lock too.
	now = now.Add(LockMax)
	if err := d.Succeeded(ctx, reserve(pw)); err != nil {
		t.Fatal(err)
	}
	code := Attempt{Kind: AttemptSecondFactor, UserID: uid, IP: "192.0.2.2", MFAAttempt: "attempt-1"}
	for i := 1; i <= MFAAttemptMaxFails; i++ {
		if r := reserve(code); r.Refused != NotRefused || r.Fails != i {
			t.Fatalf("code %d: %v, fails %d", i, r.Refused, r.Fails)
		}
	}
	if r := reserve(code); r.Refused != RefusedVoid {
		t.Fatalf("sixth code: %v", r.Refused)
	}
	if f, m, _ := counts(); f != MFAAttemptMaxFails || m != MFAAttemptMaxFails {
		t.Fatalf("after five wrong codes: %d failed sign-ins, %d failed codes", f, m)
	}
	// A right password does not forgive the failed codes: the next attempt's codes reach the lock.
	if err := d.Succeeded(ctx, reserve(pw)); err != nil {
		t.Fatal(err)
	}
	code.MFAAttempt = "attempt-2"
	for range LockAfter - MFAAttemptMaxFails {
		reserve(code)
	}
	if _, m, l := counts(); m != LockAfter || l != LockFirst {
		t.Fatalf("codes over two attempts: %d failed codes, lock %s", m, l)
	}
}

// The address is refused at 30 failures in 10 minutes, also when 40 reservations race, with Retry-After
// until the oldest failure leaves the window.
func TestReserveAttemptAddressUnderRace(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	d.Now = func() time.Time { return now }
	var wg sync.WaitGroup
	results := make([]Reservation, 40)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := d.ReserveAttempt(ctx, Attempt{Kind: AttemptPassword, IP: "192.0.2.9"})
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	refused := 0
	for _, r := range results {
		if r.Refused == RefusedIP {
			refused++
			if r.RetryAfter != IPWindow {
				t.Fatalf("Retry-After %s, want %s", r.RetryAfter, IPWindow)
			}
		}
	}
	if refused != 40-IPMaxFailures || countIP(t, d, "192.0.2.9") != IPMaxFailures {
		t.Fatalf("%d refused, %d counted", refused, countIP(t, d, "192.0.2.9"))
	}
}

func countIP(t *testing.T, d *DB, ip string) int {
	t.Helper()
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM ip_failures WHERE ip = ?`, ip).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
