package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The first administrator of a new installation is made through a one-time setup link that `serve`
// prints on the console (only the person at the console can use it), so a first run needs neither a mail
// server nor the command line. The link works until an administrator exists, for at most a day.
const setupTTL = 24 * time.Hour

// FirstAdminLink returns a fresh setup link when no administrator exists or is invited yet ("" otherwise). Each call
// replaces the previous link; only its hash is stored.
func (s *Server) FirstAdminLink(ctx context.Context) (string, error) {
	n, err := s.db.AdminsOrInvited(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	raw, hash := auth.NewToken()
	value := hex.EncodeToString(hash) + " " + s.now().Add(setupTTL).UTC().Format(time.RFC3339)
	if err := s.db.SetSetting(ctx, "setup.token", value); err != nil {
		return "", err
	}
	return s.link("/setup/" + raw), nil
}

// setupLinkValid checks a setup token against the stored hash and expiry, and that no admin exists yet.
func (s *Server) setupLinkValid(ctx context.Context, raw string) (bool, error) {
	stored, err := s.setupLinkStored(ctx, raw)
	return stored != "", err
}

// setupLinkStored is the stored value that the setup token matches while it is valid, "" otherwise.
func (s *Server) setupLinkStored(ctx context.Context, raw string) (string, error) {
	hash, err := auth.HashToken(raw)
	if err != nil {
		return "", nil
	}
	stored, err := s.db.Setting(ctx, "setup.token", "")
	if err != nil || stored == "" {
		return "", err
	}
	hexHash, until, _ := strings.Cut(stored, " ")
	want, err := hex.DecodeString(hexHash)
	if err != nil || len(want) != sha256.Size || subtle.ConstantTimeCompare(want, hash) != 1 {
		return "", nil
	}
	exp, err := time.Parse(time.RFC3339, until)
	if err != nil || !s.now().Before(exp) {
		return "", nil
	}
	if n, err := s.db.AdminsOrInvited(ctx); err != nil || n > 0 {
		return "", err
	}
	return stored, nil
}

func (s *Server) setupPage(c *echo.Context) error {
	ok, err := s.setupLinkValid(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	if !ok {
		return s.linkProblem(c, db.TokenUsed, "setup")
	}
	return s.renderSetup(c, http.StatusOK, views.SetupView{Lang: i18n.From(c.Request().Context()).Lang})
}

func (s *Server) renderSetup(c *echo.Context, status int, v views.SetupView) error {
	l := i18n.From(c.Request().Context())
	v.Action = c.Request().URL.Path
	return s.render(c, status, views.Setup(s.shell(c, l.T("setup.first.title")), v), nil)
}

// setupCreate makes the first administrator: an invitation like any other (same checks) but without its
// mail, since the browser goes straight on to its "set your password" page. After the first sign-in the
// administrator names the MSP (staff_msp_setup.go).
func (s *Server) setupCreate(c *echo.Context) error {
	ctx := c.Request().Context()
	stored, err := s.setupLinkStored(ctx, c.Param("token"))
	if err != nil {
		return err
	}
	if stored == "" {
		return s.linkProblem(c, db.TokenUsed, "setup")
	}
	v := views.SetupView{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")), Lang: c.FormValue("lang")}
	if !i18n.Supported(v.Lang) {
		v.Lang = i18n.From(ctx).Lang
	}
	if !ValidEmail(v.Email) {
		v.EmailErr = "setup.first.email_invalid"
	}
	v.NameErr = NameProblem(v.Name)
	if v.EmailErr != "" || v.NameErr != "" {
		return s.renderSetup(c, http.StatusUnprocessableEntity, v)
	}
	// The link is spent before anyone is invited, by a conditional write: of parallel posts through one
	// link exactly one invites an administrator (checking and then clearing let each of them invite one).
	if took, err := s.db.SwapSetting(ctx, "setup.token", stored, ""); err != nil {
		return err
	} else if !took {
		return s.linkProblem(c, db.TokenUsed, "setup")
	}
	e := s.auditEntry(c, 0, "", "")
	e.ActorName = v.Name
	// The setup link was printed on the server's console: whoever holds it acts as the operator.
	link, _, _, err := s.Invite(ctx, InviteRequest{Email: v.Email, Name: v.Name, Lang: v.Lang, Role: "admin",
		By: access.Operator(), Actor: e, NoMail: true})
	if err != nil {
		// Nobody was invited: the link works again, unless a restart printed a new one meanwhile.
		if _, rerr := s.db.SwapSetting(ctx, "setup.token", "", stored); rerr != nil {
			s.log.Error("restore setup link", "err", rerr)
		}
		return err
	}
	return s.redirect(c, strings.TrimPrefix(link, strings.TrimRight(s.cfg.BaseURL.String(), "/")))
}
