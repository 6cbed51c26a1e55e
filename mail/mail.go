// Package mail delivers the messages of the outbox: a worker takes due messages from the database and hands
// them to a Sender (SMTP through go-mail; without a mail server, Log notes that a mail could not be sent),
// retrying with backoff, so a slow or failing mail server never slows or changes a page.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"portier/db"
)

// Message is one mail to send. Kind names what it is about (its message key, e.g. "mail.invite").
type Message struct {
	To, Kind, Subject, Text, HTML string
}

// Sender hands a message to a mail server.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through a mail server given as smtp://user:pass@host:port (STARTTLS when offered; required
// when the port is 587) or smtps://host:port (implicit TLS).
type SMTP struct {
	URL  *url.URL
	From string
}

// Send delivers one message.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

func (s *SMTP) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithTimeout(20 * time.Second)}
	port := 25
	if p := s.URL.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("smtp port: %w", err)
		}
		port = n
	} else if s.URL.Scheme == "smtps" {
		port = 465
	}
	opts = append(opts, gomail.WithPort(port))
	switch {
	case s.URL.Scheme == "smtps":
		opts = append(opts, gomail.WithSSL())
	case port == 587:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if u := s.URL.User; u != nil {
		pw, _ := u.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(u.Username()), gomail.WithPassword(pw))
	}
	return gomail.NewClient(s.URL.Hostname(), opts...)
}

// ErrNoServer is the answer of every send when no mail server is configured: the message cannot be
// delivered, now or later, so the worker gives it up at once instead of retrying.
var ErrNoServer = errors.New("no mail server is set (PORTIER_SMTP_URL)")

// Log stands in for the mail server when none is configured. It logs whom a mail was for and what it was
// about, never its subject, text or HTML: those hold one-time links and sign-in codes, and a log is read by
// more people, kept longer and copied further than a mailbox. A first run needs no mail: the console prints
// the first administrator's link and `portier invite` prints the invitation link.
type Log struct{ Logger *slog.Logger }

// Send notes that the message could not be sent and reports ErrNoServer.
func (l *Log) Send(_ context.Context, m Message) error {
	l.Logger.Warn("mail could not be sent: no mail server is set (PORTIER_SMTP_URL)", "to", m.To, "kind", m.Kind)
	return ErrNoServer
}

// Worker sends due outbox messages.
type Worker struct {
	DB     *db.DB
	Sealer *db.Sealer
	Sender Sender
	Log    *slog.Logger
	// Poll is how often the outbox is checked when nobody calls Wake (default 2 s).
	Poll time.Duration

	once sync.Once
	wake chan struct{}
}

// Backoff after the nth failed attempt: 30 s, 1, 2, 4 ... minutes, at most an hour; after MaxAttempts the
// message is given up and marked failed.
const MaxAttempts = 12

func backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Poll == 0 {
			w.Poll = 2 * time.Second
		}
	})
}

// Wake asks the worker to look at the outbox now (after an enqueue).
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends. A message being sent when ctx ends is finished first; queued messages stay in
// the outbox for the next start.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		w.SendDue(context.WithoutCancel(ctx), ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// SendDue sends every message that is due, stopping between messages when stop ends.
func (w *Worker) SendDue(ctx, stop context.Context) {
	for stop.Err() == nil {
		ms, err := w.DB.DueMails(ctx, w.Sealer, 20)
		if err != nil {
			w.Log.Error("outbox", "err", err)
			return
		}
		if len(ms) == 0 {
			return
		}
		for _, m := range ms {
			if stop.Err() != nil {
				return
			}
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := w.Sender.Send(sctx, Message{To: m.To, Kind: m.Kind, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
			cancel()
			switch {
			case err == nil:
				err = w.DB.MailSent(ctx, m.ID)
			case errors.Is(err, ErrNoServer):
				err = w.DB.MailFailed(ctx, m.ID, err.Error())
			case m.Attempt+1 >= MaxAttempts:
				w.Log.Error("mail given up", "id", m.ID, "attempts", m.Attempt+1, "err", err)
				err = w.DB.MailFailed(ctx, m.ID, truncate(err.Error()))
			default:
				w.Log.Warn("mail not delivered, will retry", "id", m.ID, "attempt", m.Attempt+1, "err", err)
				err = w.DB.MailRetry(ctx, m.ID, backoff(m.Attempt+1), truncate(err.Error()))
			}
			if err != nil {
				w.Log.Error("outbox update", "err", err)
				return
			}
		}
	}
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
