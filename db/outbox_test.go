package db

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// The outbox keeps a message's content sealed (it may hold a one-time link), hands out due messages oldest
// first up to the limit, waits after a failure, and drops the content once a message is sent or given up.
func TestOutboxSealsOrdersAndForgets(t *testing.T) {
	d := openTemp(t)
	s := testSealer(t)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return EnqueueMail(ctx, tx, s, d.Now(), fmt.Sprintf("p%d@alpha.example", i), "mail.reset", "Betreff",
				fmt.Sprintf("https://portal.example/reset/Einmal-Link-%d", i), "<p>html</p>")
		}); err != nil {
			t.Fatal(err)
		}
	}
	notInFiles(t, d, "Einmal-Link-")
	due, err := d.DueMails(ctx, s, 2)
	if err != nil || len(due) != 2 || due[0].To != "p1@alpha.example" || due[1].To != "p2@alpha.example" || due[0].Kind != "mail.reset" ||
		due[0].Text != "https://portal.example/reset/Einmal-Link-1" || due[0].HTML != "<p>html</p>" {
		t.Fatalf("due %+v %v", due, err)
	}
	if err := d.MailRetry(ctx, due[0].ID, time.Minute, "421 try later"); err != nil {
		t.Fatal(err)
	}
	d.MailSent(ctx, due[1].ID)
	due, _ = d.DueMails(ctx, s, 10)
	if len(due) != 1 || due[0].To != "p3@alpha.example" {
		t.Fatalf("after a retry and a send: %+v", due)
	}
	d.MailFailed(ctx, due[0].ID, "550 no such user")
	later := time.Now().Add(2 * time.Minute)
	d.Now = func() time.Time { return later }
	due, _ = d.DueMails(ctx, s, 10)
	if len(due) != 1 || due[0].To != "p1@alpha.example" || due[0].Attempt != 1 {
		t.Fatalf("the retried message: %+v", due)
	}
	var kept int
	d.R.QueryRow(`SELECT count(*) FROM outbox WHERE sealed IS NOT NULL`).Scan(&kept)
	if kept != 1 {
		t.Fatalf("%d messages keep their content, want only the queued one", kept)
	}
	queued, sent, failed, _, _ := d.OutboxStats(ctx)
	if queued != 1 || sent != 1 || failed != 1 {
		t.Fatalf("stats %d/%d/%d", queued, sent, failed)
	}
}

// A message whose seal is broken is given up instead of blocking the queue on every run.
func TestOutboxGivesUpABrokenMessage(t *testing.T) {
	d := openTemp(t)
	s := testSealer(t)
	ctx := context.Background()
	d.Tx(ctx, func(tx *sql.Tx) error {
		return EnqueueMail(ctx, tx, s, d.Now(), "a@alpha.example", "mail.reset", "S", "T", "H")
	})
	d.Tx(ctx, func(tx *sql.Tx) error {
		return EnqueueMail(ctx, tx, s, d.Now(), "b@alpha.example", "mail.reset", "S", "T", "H")
	})
	d.W.Exec(`UPDATE outbox SET sealed = CAST(substr(sealed, 1, 20) || CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END || substr(sealed, 22) AS BLOB) WHERE to_addr = 'a@alpha.example'`)
	if _, err := d.DueMails(ctx, s, 10); err == nil {
		t.Fatal("a broken seal went unnoticed")
	}
	due, err := d.DueMails(ctx, s, 10)
	if err != nil || len(due) != 1 || due[0].To != "b@alpha.example" {
		t.Fatalf("the queue is still blocked: %+v %v", due, err)
	}
}
