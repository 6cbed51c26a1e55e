package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

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
	err := s.accounts.ResendConfirmation(ctx, email, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	waitFloor(ctx, start)
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.PendingConfirmation(s.shell(c, l.T("confirm.pending.title")),
		views.PendingConfirmationView{Email: email, SentKey: "confirm.pending.sent"}), nil)
}

// confirmPage is where a confirmation mail's link leads: the address it confirms and a button. Opening
// the link uses nothing up — mail scanners and link checkers open links (GET and HEAD) before, or
// instead of, the person — so the link still works when the person clicks. Used, expired and revoked
// links land on a page that says what to do.
func (s *Server) confirmPage(c *echo.Context) error {
	ctx := c.Request().Context()
	email, state, err := s.accounts.ConfirmLinkAddress(ctx, c.Param("token"))
	if err != nil {
		return err
	}
	if state != db.TokenValid {
		return s.linkProblem(c, state, "confirm")
	}
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.ConfirmAsk(s.shell(c, l.T("confirm.ask.title")),
		views.ConfirmAskView{Action: c.Request().URL.EscapedPath(), Email: email}), nil)
}

// confirmEmail is the confirmation page's button: the new address replaces the old one (or an unconfirmed
// address becomes confirmed). A link used, expired or revoked meanwhile lands on the page that says what
// to do, the same page its GET shows now (accounts.ConfirmEmail names the state).
func (s *Server) confirmEmail(c *echo.Context) error {
	ctx := c.Request().Context()
	state, taken, err := s.accounts.ConfirmEmail(ctx, c.Param("token"), s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	if state != db.TokenValid {
		return s.linkProblem(c, state, "confirm")
	}
	next, err := s.afterConfirm(c)
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	v := views.MessageView{TitleKey: "confirm.done.title", TextKey: "confirm.done.text", Kind: "success",
		LinkKey: "confirm.done.continue", LinkHref: next, TestID: "confirm-done"}
	status := http.StatusOK
	if taken {
		v = views.MessageView{TitleKey: "confirm.taken.title", TextKey: "confirm.taken.text", Kind: "error",
			LinkKey: "confirm.done.continue", LinkHref: next, ShowSupport: true, TestID: "confirm-taken"}
		status = http.StatusConflict
	}
	return s.render(c, status, views.Message(s.shell(c, l.T(v.TitleKey)), v), nil)
}

// afterConfirm is where "Continue" leads after a confirmation: to sign in for nobody signed in; to the next
// step of the first-login pipeline (nextStep) for a signed-in person who has one left — the address just
// confirmed may have been that step; else back to the profile, where a change of address starts.
func (s *Server) afterConfirm(c *echo.Context) (string, error) {
	cur := currentUser(c)
	if cur == nil {
		return "/login", nil
	}
	u, err := s.db.UserByID(c.Request().Context(), cur.ID)
	if err != nil {
		return "", err
	}
	step, err := s.nextStep(c, u)
	if err != nil || step != "" {
		return step, err
	}
	return "/profile", nil
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
