package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// A reset or confirmation link: a new one revokes the older live one of the same purpose only, and each
// state is told apart without using the link.
func TestTokenStates(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	old, reset, confirm := []byte("old-old-old-old-old-old-old-old-"), []byte("new-new-new-new-new-new-new-new-"), []byte("conf-conf-conf-conf-conf-conf-co")
	for _, tk := range []struct {
		purpose string
		hash    []byte
	}{{PurposeReset, old}, {PurposeConfirm, confirm}, {PurposeReset, reset}} {
		if err := d.CreateToken(ctx, u, tk.purpose, tk.hash, "kim@alpha.example", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	state := func(purpose string, h []byte) TokenState {
		t.Helper()
		ti, err := d.LookupToken(ctx, purpose, h)
		if err != nil {
			t.Fatal(err)
		}
		return ti.State
	}
	if s := state(PurposeReset, old); s != TokenRevoked {
		t.Fatalf("older reset link: %s", s)
	}
	if s := state(PurposeReset, reset); s != TokenValid {
		t.Fatalf("newest reset link: %s", s)
	}
	if s := state(PurposeConfirm, confirm); s != TokenValid {
		t.Fatalf("a reset link revoked the confirmation link: %s", s)
	}
	if s := state(PurposeConfirm, reset); s != TokenUnknown {
		t.Fatalf("a reset link works as a confirmation link: %s", s)
	}
	if err := d.Tx(ctx, func(tx *sql.Tx) error { _, _, err := UseToken(ctx, tx, d.Now(), PurposeReset, reset); return err }); err != nil {
		t.Fatal(err)
	}
	if s := state(PurposeReset, reset); s != TokenUsed {
		t.Fatalf("used link: %s", s)
	}
	later := time.Now().Add(time.Hour + time.Second)
	d.Now = func() time.Time { return later }
	if s := state(PurposeConfirm, confirm); s != TokenExpired {
		t.Fatalf("link after its hour: %s", s)
	}
	err := d.Tx(ctx, func(tx *sql.Tx) error { _, _, err := UseToken(ctx, tx, d.Now(), PurposeConfirm, confirm); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired link used: %v", err)
	}
}

// Of parallel uses of one link exactly one succeeds; a revoked link cannot be used at all.
func TestTokenIsUsedOnce(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	h := []byte("race-race-race-race-race-race-ra")
	if err := d.CreateToken(ctx, u, PurposeReset, h, "kim@alpha.example", time.Hour); err != nil {
		t.Fatal(err)
	}
	won := race(t, 8, func(int) (bool, error) {
		var got int64
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) { got, _, err = UseToken(ctx, tx, d.Now(), PurposeReset, h); return err })
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return got == u, err
	})
	if won != 1 {
		t.Fatalf("%d requests used the same link", won)
	}
	h2 := []byte("next-next-next-next-next-next-ne")
	h3 := []byte("last-last-last-last-last-last-la")
	d.CreateToken(ctx, u, PurposeReset, h2, "kim@alpha.example", time.Hour)
	d.CreateToken(ctx, u, PurposeReset, h3, "kim@alpha.example", time.Hour)
	err := d.Tx(ctx, func(tx *sql.Tx) error { _, _, err := UseToken(ctx, tx, d.Now(), PurposeReset, h2); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked link used: %v", err)
	}
}
