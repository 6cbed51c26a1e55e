package mail

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portier/db"
	"portier/testkit"
)

func setup(t *testing.T) (*db.DB, *db.Sealer, *time.Time) {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := time.Now()
	d.Now = func() time.Time { return now }
	s, _ := db.NewSealer(bytes.Repeat([]byte{9}, db.KeySize))
	return d, s, &now
}

func enqueue(t *testing.T, d *db.DB, s *db.Sealer, to, subject, text string) {
	t.Helper()
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		return db.EnqueueMail(context.Background(), tx, s, d.Now(), to, "mail.test", subject, text, "<p>"+text+"</p>")
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWorkerDeliversRetriesAndForgetsContent(t *testing.T) {
	d, s, now := setup(t)
	srv := testkit.SMTP(t)
	u, _ := url.Parse(srv.URL())
	w := &Worker{DB: d, Sealer: s, Sender: &SMTP{URL: u, From: "portal@muster-it.example"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()

	enqueue(t, d, s, "anna@muster.example", "Einladung für Anna – Kundenportal", "Link: https://portal.example/invite/TOKEN-MARKER")
	srv.Fail(1)
	w.SendDue(ctx, ctx)
	if srv.Rejected() != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("first attempt: rejected %d, delivered %d", srv.Rejected(), len(srv.Messages()))
	}
	queued, sent, failed, _, _ := d.OutboxStats(ctx)
	if queued != 1 || sent != 0 || failed != 0 {
		t.Fatalf("after a failure: queued %d sent %d failed %d", queued, sent, failed)
	}
	// Not due before the backoff has passed.
	w.SendDue(ctx, ctx)
	if len(srv.Messages()) != 0 {
		t.Fatal("retried before the backoff")
	}
	*now = now.Add(31 * time.Second)
	w.SendDue(ctx, ctx)
	m := srv.WaitFor(t, "anna@muster.example", 5*time.Second)
	if m.Subject != "Einladung für Anna – Kundenportal" || !strings.Contains(m.Text, "TOKEN-MARKER") || !strings.Contains(m.HTML, "<p>Link:") {
		t.Fatalf("delivered: %q %q %q", m.Subject, m.Text, m.HTML)
	}
	queued, sent, _, _, _ = d.OutboxStats(ctx)
	if queued != 0 || sent != 1 {
		t.Fatalf("after delivery: queued %d sent %d", queued, sent)
	}
	// Sent mail keeps no content: the link (a live token) is gone from the database.
	d.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	var n int
	d.R.QueryRow(`SELECT count(*) FROM outbox WHERE sealed IS NOT NULL`).Scan(&n)
	if n != 0 {
		t.Fatal("sent mail still stored")
	}
	raw, _ := os.ReadFile(d.Path)
	if bytes.Contains(raw, []byte("TOKEN-MARKER")) {
		t.Fatal("mail content in the clear in the database")
	}
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	d, s, now := setup(t)
	srv := testkit.SMTP(t)
	u, _ := url.Parse(srv.URL())
	w := &Worker{DB: d, Sealer: s, Sender: &SMTP{URL: u, From: "p@x.example"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	enqueue(t, d, s, "bob@x.example", "s", "t")
	srv.Fail(MaxAttempts)
	for i := 0; i < MaxAttempts; i++ {
		w.SendDue(ctx, ctx)
		*now = now.Add(2 * time.Hour)
	}
	_, sent, failed, _, _ := d.OutboxStats(ctx)
	if sent != 0 || failed != 1 || srv.Rejected() != MaxAttempts {
		t.Fatalf("sent %d failed %d rejected %d", sent, failed, srv.Rejected())
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	if backoff(1) != 30*time.Second || backoff(2) != time.Minute || backoff(3) != 2*time.Minute || backoff(20) != time.Hour {
		t.Fatalf("backoff: %v %v %v %v", backoff(1), backoff(2), backoff(3), backoff(20))
	}
}

// Without a mail server the log says whom a mail was for and what it was about, once, and nothing it said:
// not the subject, the text, the HTML, a link or a code. The message is given up, not retried.
func TestWithoutMailServerTheLogNamesRecipientAndKindOnly(t *testing.T) {
	d, s, now := setup(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	w := &Worker{DB: d, Sealer: s, Sender: &Log{Logger: logger}, Log: logger}
	ctx := context.Background()
	const link, code = "https://portal.example/reset/TOKEN-MARKER-abc", "493817"
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		return db.EnqueueMail(ctx, tx, s, d.Now(), "anna@muster.example", "mail.mfa_code", "Ihr Code SUBJECT-MARKER",
			"Guten Tag BODY-MARKER\n\n"+code+"\n\n"+link, "<p>"+code+" <a href=\""+link+"\">HTML-MARKER</a></p>")
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.SendDue(ctx, ctx)
		*now = now.Add(2 * time.Hour)
	}
	out := buf.String()
	t.Logf("log: %s", out)
	for _, secret := range []string{"TOKEN-MARKER", code, "SUBJECT-MARKER", "BODY-MARKER", "HTML-MARKER", "Guten Tag"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q", secret)
		}
	}
	if strings.Count(out, "mail could not be sent") != 1 || !strings.Contains(out, "to=anna@muster.example") || !strings.Contains(out, "kind=mail.mfa_code") {
		t.Fatalf("log does not say once whom the mail was for and what it was about: %s", out)
	}
	queued, sent, failed, _, _ := d.OutboxStats(ctx)
	if queued != 0 || sent != 0 || failed != 1 {
		t.Fatalf("queued %d sent %d failed %d", queued, sent, failed)
	}
}

func TestWorkerStopsBetweenMessagesAndKeepsTheRest(t *testing.T) {
	d, s, _ := setup(t)
	srv := testkit.SMTP(t)
	u, _ := url.Parse(srv.URL())
	w := &Worker{DB: d, Sealer: s, Sender: &SMTP{URL: u, From: "p@x.example"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 0; i < 3; i++ {
		enqueue(t, d, s, "c@x.example", "s", "t")
	}
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	w.SendDue(context.Background(), stop)
	queued, _, _, _, _ := d.OutboxStats(context.Background())
	if queued != 3 || len(srv.Messages()) != 0 {
		t.Fatalf("stopped worker sent anyway: queued %d", queued)
	}
	ctx, cancelRun := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	w.Wake()
	for i := 0; i < 3; i++ {
		srv.WaitFor(t, "c@x.example", 5*time.Second)
	}
	cancelRun()
	<-done
}
