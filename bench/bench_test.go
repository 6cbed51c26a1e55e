package bench

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTOTPMatchesRFC6238(t *testing.T) {
	// RFC 6238 appendix B, SHA-1, last six digits of the eight shown there.
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		if got := TOTP(secret, unix/30); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
}

func TestStepsNeverRepeat(t *testing.T) {
	var s Steps
	now := time.Unix(3000, 0)
	a, err1 := s.Next("x", now)
	b, err2 := s.Next("x", now)
	_, err3 := s.Next("x", now)
	if err1 != nil || err2 != nil || a == b || !errors.Is(err3, ErrReplay) {
		t.Fatalf("steps %d %d, errors %v %v %v", a, b, err1, err2, err3)
	}
	if c, err := s.Next("y", now); err != nil || c != a {
		t.Fatalf("another person: %d %v", c, err)
	}
}

func TestPercentileAndRun(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if p := Percentile(lat, 50); p != 50*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
	if p := Percentile(lat, 99); p != 99*time.Millisecond {
		t.Errorf("p99 %v", p)
	}
	if p := Percentile(lat, 100); p != 100*time.Millisecond {
		t.Errorf("p100 %v", p)
	}
	r := Run(context.Background(), "sleep", 4, 200*time.Millisecond, func(context.Context, int) error {
		time.Sleep(10 * time.Millisecond)
		return nil
	})
	if r.Requests < 40 || r.Requests > 100 || r.P50ms < 9 || r.Errors != 0 {
		t.Errorf("run: %+v", r)
	}
	p := RunPaced(context.Background(), "paced", 2, 100, 300*time.Millisecond, func(context.Context, int) error { return errors.New("x") })
	if p.Requests < 25 || p.Requests > 35 || p.Errors != p.Requests || p.FirstErr != "x" {
		t.Errorf("paced: %+v", p)
	}
}

func TestGenerateSmall(t *testing.T) {
	dir := t.TempDir()
	ds, err := Generate(context.Background(), dir, Spec{Orgs: 12, Items: 1200, People: 80, BigOrgs: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Items != 1200 || ds.Orgs != 12 || len(ds.People) != 75 || len(ds.Big) != 2 {
		t.Fatalf("data set: %d items, %d orgs, %d customers, %d big", ds.Items, ds.Orgs, len(ds.People), len(ds.Big))
	}
	for _, b := range ds.Big {
		// 300 items each: 35% configurations (one of them the connected item, kept out of the plain detail
		// page's list), and every big organisation has members who can sign in.
		if b.Counts["configurations"] != 105 || len(b.Members) != 20 || len(b.Configs) != 104 || len(b.Passwords) == 0 || b.Connected == 0 {
			t.Fatalf("big organisation %s: %v, %d members, %d configs, %d passwords", b.Slug, b.Counts, len(b.Members), len(b.Configs), len(b.Passwords))
		}
		for _, m := range b.Members {
			if ds.People[m].Org != b.Slug {
				t.Fatalf("member %s belongs to %s", ds.People[m].Email, ds.People[m].Org)
			}
		}
	}
	if ds.StaffOnly == 0 || ds.StaffOnly > ds.Items/20 {
		t.Fatalf("%d staff-only items", ds.StaffOnly)
	}
}
