package handlers

import (
	"bytes"
	"context"
	"database/sql"
	"strings"

	"portier/db"
	"portier/i18n"
	"portier/views"
)

// link builds an absolute URL from the configured base URL, never from the request's Host header.
func (s *Server) link(path string) string {
	return strings.TrimRight(s.cfg.BaseURL.String(), "/") + path
}

// supportContact is the MSP's support address and phone, as one line.
func (s *Server) supportContact() string {
	m := s.msp.Load()
	contact := m.SupportEmail
	if m.SupportPhone != "" {
		if contact != "" {
			contact += ", "
		}
		contact += m.SupportPhone
	}
	return contact
}

// mailFooter names the MSP and its support contact in every mail.
func (s *Server) mailFooter(l *i18n.Localizer) string {
	return l.T("mail.footer", "msp", s.msp.Load().Name, "contact", s.supportContact(), "url", s.link("/"))
}

// plainText renders the plain-text part of a mail from the same model as the HTML part.
func plainText(m views.Email) string {
	var b strings.Builder
	b.WriteString(m.Greeting + "\n\n")
	for _, p := range m.Paragraphs {
		b.WriteString(p + "\n\n")
	}
	if m.ButtonURL != "" {
		b.WriteString(m.ButtonText + ":\n" + m.ButtonURL + "\n\n")
	}
	for _, p := range m.After {
		b.WriteString(p + "\n\n")
	}
	b.WriteString(m.Signature + "\n\n-- \n" + m.Footer + "\n")
	return b.String()
}

// enqueue renders a mail in both parts and adds it to the outbox inside tx.
func (s *Server) enqueue(ctx context.Context, tx *sql.Tx, to string, m views.Email) error {
	var html bytes.Buffer
	if err := views.EmailHTML(m).Render(ctx, &html); err != nil {
		return err
	}
	return db.EnqueueMail(ctx, tx, s.cfg.Sealer, s.now(), to, m.Kind, m.Subject, plainText(m), html.String())
}

// wakeMailer nudges the worker after a transaction that queued mail committed.
func (s *Server) wakeMailer() {
	if s.cfg.Mailer != nil {
		s.cfg.Mailer.Wake()
	}
}

// newEmail starts a mail in the recipient's language with greeting, signature and footer.
func (s *Server) newEmail(lang, name, subjectKey string, args ...any) (views.Email, *i18n.Localizer) {
	l := s.i18n.For(lang, "")
	greeting := l.T("mail.greeting")
	if strings.TrimSpace(name) != "" {
		greeting = l.T("mail.greeting_name", "name", name)
	}
	return views.Email{
		Lang:      l.Lang,
		Kind:      strings.TrimSuffix(subjectKey, ".subject"),
		Subject:   l.T(subjectKey, args...),
		Greeting:  greeting,
		Signature: l.T("mail.signature", "msp", s.msp.Load().Name),
		Footer:    s.mailFooter(l),
	}, l
}
