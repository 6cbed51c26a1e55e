package docsapp

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/db"
	"portier/mail"
)

// lineMails words a digest as one line per entry (mailtext.Composer does it for the product; its words
// are tested with the handlers, through SMTP).
type lineMails struct{}

func (lineMails) ExpiryDigest(ctx context.Context, to string, d ExpiryDigestMail) (mail.Message, error) {
	var b strings.Builder
	for _, l := range d.Lines {
		b.WriteString(l.Name + " " + l.KindKey + "\n")
	}
	return mail.Message{To: to, Kind: "mail.expiry_digest", Subject: d.Org.Name + " " + d.Lang, Text: b.String() + d.Path, HTML: "<p>"}, nil
}

// withMails is the fixture's service able to send digests; wakes counts the nudges to the mail worker.
func (f *fixture) withMails(wakes *atomic.Int32) {
	f.svc = New(f.db, f.sealer, f.clock.Now, f.svc.labels, f.svc.log, lineMails{}, func() { wakes.Add(1) })
}

func (f *fixture) outbox(t *testing.T) []db.Mail {
	t.Helper()
	ms, err := f.db.DueMails(context.Background(), f.sealer, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// Staff keep dated things for an organisation, each audited (staff-only when the thing is); customers
// see what is not staff-only, only staff see every organisation; a kind there is none of is refused.
func TestExpiryAddDeleteAndScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff, mgr := f.staff(f.a), f.customer(f.a, "manager")
	day := f.clock.Now().AddDate(0, 0, 10).Format("2006-01-02")
	if err := f.svc.AddExpiry(ctx, mgr, ExpiryInput{Kind: "licence", Name: "M365", ExpiresOn: day}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a manager adds: %v", err)
	}
	if err := f.svc.AddExpiry(ctx, staff, ExpiryInput{Kind: "spaceship", Name: "M365", ExpiresOn: day}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unknown kind: %v", err)
	}
	err := f.svc.AddExpiry(ctx, staff, ExpiryInput{Kind: "licence", Name: " ", ExpiresOn: "2026-13-45"})
	var inv *FieldInvalidError
	if !errors.As(err, &inv) || inv.Fields["name"] == "" || inv.Fields["expires_on"] == "" {
		t.Fatalf("no name, no such day: %v", err)
	}
	if err := f.svc.AddExpiry(ctx, staff, ExpiryInput{Kind: "licence", Name: "M365", ExpiresOn: day}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddExpiry(ctx, staff, ExpiryInput{Kind: "certificate", Name: "Intern-CA", ExpiresOn: day, StaffOnly: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddExpiry(ctx, f.staff(f.b), ExpiryInput{Kind: "domain", Name: "beta.example", ExpiresOn: day}); err != nil {
		t.Fatal(err)
	}
	names := func(v *Viewer) string {
		es, _, err := f.svc.Expiries(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	if got := names(mgr); got != "M365" {
		t.Fatalf("the manager sees %q", got)
	}
	if got := names(staff); got != "Intern-CA,M365" {
		t.Fatalf("staff in the organisation see %q", got)
	}
	if got := names(f.staff(nil)); got != "Intern-CA,M365,beta.example" {
		t.Fatalf("staff across organisations see %q", got)
	}
	if _, _, err := f.svc.Expiries(ctx, f.customer(nil, "manager")); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a customer across organisations: %v", err)
	}
	if es := f.customerAudits(t, f.a.ID, "expiry.create"); len(es) != 1 || !strings.HasSuffix(es[0].Target, ":licence:M365") {
		t.Fatalf("what the customer's log shows of the additions: %+v", es)
	}
	es, _, _ := f.svc.Expiries(ctx, staff)
	for _, e := range es {
		if err := f.svc.DeleteExpiry(ctx, f.staff(f.b), e.ItemID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted through another organisation: %v", err)
		}
		if err := f.svc.DeleteExpiry(ctx, staff, e.ItemID); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(staff); got != "" {
		t.Fatalf("left after deleting: %q", got)
	}
	if es := f.audits(t, f.a.ID, "expiry.delete"); len(es) != 2 {
		t.Fatalf("%d delete entries, want 2", len(es))
	}
}

// Who gets the digest: staff and the organisation's managers decide; real addresses only, at most ten.
func TestExpiryDigestSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mgr := f.customer(f.a, "manager")
	if err := f.svc.SetExpiryDigest(ctx, f.customer(f.a, "viewer"), "de", []string{"a@alpha.example"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a reader sets the digest: %v", err)
	}
	for _, bad := range [][]string{{"keine-adresse"}, {"Chef <chef@alpha.example>"}, {"chef@localhost"}} {
		err := f.svc.SetExpiryDigest(ctx, mgr, "de", bad)
		var inv *FieldInvalidError
		if !errors.As(err, &inv) || inv.Fields["recipients"] != "expiry.digest.err_address" {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	many := make([]string, MaxDigestRecipients+1)
	for i := range many {
		many[i] = "p" + string(rune('a'+i)) + "@alpha.example"
	}
	if err := f.svc.SetExpiryDigest(ctx, mgr, "de", many); err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("%d recipients: %v", len(many), err)
	}
	if err := f.svc.SetExpiryDigest(ctx, mgr, "xx", []string{"Buero@Alpha.example"}); err != nil {
		t.Fatal(err)
	}
	dg, err := f.svc.ExpiryDigest(ctx, mgr)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(dg.Recipients, ",") != "buero@alpha.example" || dg.Lang != "de" {
		t.Fatalf("stored %+v", dg)
	}
	if es := f.customerAudits(t, f.a.ID, "expiry.digest"); len(es) != 1 || es[0].Target != "1" {
		t.Fatalf("digest entries: %+v", es)
	}
}

// Parallel runs of the scheduler send each due digest once: one mail per recipient, one wake-up; a week
// later once more; an organisation with nothing due within 30 days gets none but is marked as done.
func TestExpiryDigestParallelRunsSendOnce(t *testing.T) {
	f := newFixture(t)
	var wakes atomic.Int32
	f.withMails(&wakes)
	ctx := context.Background()
	staff := f.staff(f.a)
	soon := f.clock.Now().AddDate(0, 0, 10).Format("2006-01-02")
	later := f.clock.Now().AddDate(0, 0, 60).Format("2006-01-02")
	for _, in := range []ExpiryInput{{Kind: "licence", Name: "M365", ExpiresOn: soon}, {Kind: "domain", Name: "alpha.example", ExpiresOn: later},
		{Kind: "certificate", Name: "Intern-CA", ExpiresOn: soon, StaffOnly: true}} {
		if err := f.svc.AddExpiry(ctx, staff, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.SetExpiryDigest(ctx, f.customer(f.a, "manager"), "en", []string{"it@alpha.example", "chef@alpha.example"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetExpiryDigest(ctx, f.customer(f.b, "manager"), "de", []string{"it@beta.example"}); err != nil {
		t.Fatal(err) // Beta has nothing that expires
	}
	run := func() int {
		const n = 6
		var wg sync.WaitGroup
		var total atomic.Int32
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q, err := f.svc.SendExpiryDigests(ctx)
				if err != nil {
					t.Error(err)
				}
				total.Add(int32(q))
			}()
		}
		wg.Wait()
		return int(total.Load())
	}
	if got := run(); got != 2 {
		t.Fatalf("parallel runs queued %d mails, want 2", got)
	}
	ms := f.outbox(t)
	if len(ms) != 2 || wakes.Load() != 1 {
		t.Fatalf("%d mails in the outbox, %d wake-ups; want 2 and 1", len(ms), wakes.Load())
	}
	for _, m := range ms {
		if !strings.Contains(m.Text, "M365") || strings.Contains(m.Text, "Intern-CA") || strings.Contains(m.Text, "alpha.example expiry") ||
			!strings.HasSuffix(m.Text, "/o/alpha/expiry?window=30") || m.Subject != "Alpha GmbH en" {
			t.Fatalf("digest to %s: %q %q", m.To, m.Subject, m.Text)
		}
	}
	if got := run(); got != 0 {
		t.Fatalf("the same week again: %d", got)
	}
	f.clock.Advance(DigestEvery + time.Minute)
	if got := run(); got != 2 {
		t.Fatalf("a week later: %d, want 2", got)
	}
	if dg, err := f.svc.ExpiryDigest(ctx, f.customer(f.b, "manager")); err != nil || dg.LastSent.IsZero() {
		t.Fatalf("Beta's digest with nothing to say is not marked as done: %+v %v", dg, err)
	}
}
