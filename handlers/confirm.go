package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// renderPendingConfirmation answers a sign-in with a not yet confirmed new address and the right password.
func (s *Server) renderPendingConfirmation(c *echo.Context, u *db.User, email string) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, http.StatusOK, views.PendingConfirmation(s.shell(c, l.T("confirm.pending.title")),
		views.PendingConfirmationView{Email: email}), nil)
}

// confirmPendingPage is the pipeline step for a signed-in person whose address is not confirmed.
func (s *Server) confirmPendingPage(c *echo.Context) error {
	u := currentUser(c)
	if u.EmailConfirmed {
		return s.continueTo(c, u)
	}
	return s.renderPendingConfirmation(c, u, u.Email)
}

// confirmResend sends the confirmation link again. The answer is the same whether or not the address
// belongs to anyone, and whether or not the cooldown withheld the mail; and it takes the same time
// (waitFloor): a waiting address costs a token, a mail and an audit entry, which an unknown one does not.
func (s *Server) confirmResend(c *echo.Context) error {
	start := time.Now()
	ctx := c.Request().Context()
	email := db.NormalizeEmail(c.FormValue("email"))
	// The account that holds the address comes first: an address someone else asked to switch to is
	// theirs, and its owner is never mailed a link for another person's account (emailChange stores a
	// taken address as waiting, so that the profile does not tell it is taken).
	u, err := s.db.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if !u.EmailConfirmed {
			err = s.sendConfirmation(ctx, c, u, email)
		}
	case errors.Is(err, db.ErrNotFound):
		if u, err = s.db.UserByPendingEmail(ctx, email); err == nil {
			err = s.sendConfirmation(ctx, c, u, email)
		} else if errors.Is(err, db.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	waitFloor(ctx, start)
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.PendingConfirmation(s.shell(c, l.T("confirm.pending.title")),
		views.PendingConfirmationView{Email: email, SentKey: "confirm.pending.sent"}), nil)
}

// sendConfirmation mails a confirmation link for email to the person, within the mail throttle.
func (s *Server) sendConfirmation(ctx context.Context, c *echo.Context, u *db.User, email string) error {
	ok, err := s.db.MailAllowed(ctx, u.ID, "confirm")
	if err != nil || !ok {
		return err
	}
	raw, hash := auth.NewToken()
	if err := s.db.CreateToken(ctx, u.ID, db.PurposeConfirm, hash, email, s.cfg.ConfirmTTL); err != nil {
		return err
	}
	m, l := s.newEmail(u.Lang, u.Name, "mail.confirm.subject", "msp", s.msp.Load().Name)
	m.Paragraphs = []string{l.T("mail.confirm.body", "email", email)}
	m.ButtonText = l.T("mail.confirm.button")
	m.ButtonURL = s.link("/confirm/" + raw)
	m.After = []string{l.N("mail.confirm.expiry", int(s.cfg.ConfirmTTL.Hours())), l.T("mail.not_you")}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.enqueue(ctx, tx, email, m); err != nil {
			return err
		}
		e := s.auditEntry(c, 0, "email.confirm_sent", email)
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
		return s.db.Audit(ctx, tx, e)
	})
	if err == nil {
		s.wakeMailer()
	}
	return err
}

// confirmEmail uses a confirmation link: the new address replaces the old one (or an unconfirmed address
// becomes confirmed). Used, expired and revoked links land on a page that says what to do.
func (s *Server) confirmEmail(c *echo.Context) error {
	ctx := c.Request().Context()
	hash, err := auth.HashToken(c.Param("token"))
	if err != nil {
		return s.linkProblem(c, db.TokenUnknown, "confirm")
	}
	ti, err := s.db.LookupToken(ctx, db.PurposeConfirm, hash)
	if err != nil {
		return err
	}
	if ti.State != db.TokenValid {
		return s.linkProblem(c, ti.State, "confirm")
	}
	taken := false
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		uid, email, err := db.UseToken(ctx, tx, s.now(), db.PurposeConfirm, hash)
		if err != nil {
			return err
		}
		var other int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ? AND id != ?`, email, uid).Scan(&other); err == nil {
			taken = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, pending_email = NULL,
			email_confirmed_at = ? WHERE id = ?`, email, s.now().Unix(), uid); err != nil {
			return err
		}
		e := s.auditEntry(c, 0, "email.confirmed", email)
		e.ActorID = uid
		return s.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrNotFound) {
		return s.linkProblem(c, db.TokenUsed, "confirm")
	}
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	v := views.MessageView{TitleKey: "confirm.done.title", TextKey: "confirm.done.text", Kind: "success",
		LinkKey: "confirm.done.continue", LinkHref: "/login", TestID: "confirm-done"}
	if currentUser(c) != nil {
		v.LinkHref = "/profile"
	}
	if taken {
		v = views.MessageView{TitleKey: "confirm.taken.title", TextKey: "confirm.taken.text", Kind: "error",
			ShowSupport: true, TestID: "confirm-taken"}
	}
	return s.render(c, http.StatusOK, views.Message(s.shell(c, l.T(v.TitleKey)), v), nil)
}

// linkProblem explains why a one-time link does not work and what to do now. kind is "invite", "reset"
// or "confirm".
func (s *Server) linkProblem(c *echo.Context, state db.TokenState, kind string) error {
	l := i18n.From(c.Request().Context())
	st := string(state)
	if state == db.TokenValid {
		st = string(db.TokenUnknown)
	}
	v := views.MessageView{
		TitleKey: "link." + st + ".title", TextKey: "link." + kind + "." + st, Kind: "error",
		ShowSupport: true, TestID: "link-" + st,
	}
	switch kind {
	case "invite", "reset":
		v.LinkKey, v.LinkHref = "link.forgot", "/forgot"
	default:
		v.LinkKey, v.LinkHref = "link.login", "/login"
	}
	return s.render(c, http.StatusGone, views.Message(s.shell(c, l.T(v.TitleKey)), v), nil)
}
