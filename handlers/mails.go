package handlers

import (
	"context"
	"database/sql"

	"portier/db"
	"portier/views"
)

// Mails are written by mailtext (s.mails) and queued in the outbox inside the caller's transaction.

// link builds an absolute URL from the configured base URL, never from the request's Host header.
func (s *Server) link(path string) string { return s.mails.Link(path) }

// enqueue renders a mail in both parts and adds it to the outbox inside tx.
func (s *Server) enqueue(ctx context.Context, tx *sql.Tx, to string, m views.Email) error {
	msg, err := s.mails.Render(ctx, to, m)
	if err != nil {
		return err
	}
	return db.EnqueueMail(ctx, tx, s.cfg.Sealer, s.now(), msg.To, msg.Kind, msg.Subject, msg.Text, msg.HTML)
}

// wakeMailer nudges the worker after a transaction that queued mail committed.
func (s *Server) wakeMailer() {
	if s.cfg.Mailer != nil {
		s.cfg.Mailer.Wake()
	}
}
