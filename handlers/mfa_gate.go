package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v5"

	"portier/db"
)

// The second-factor pages are gated: signing in with a second factor is for people who passed the
// password and still need one (verifying), adding a method is for people without any or who just passed
// one (enrolling). The gates run as middleware in the route table; a person who does not belong on the
// page is sent where they do belong, with a redirect for pages and a JSON answer for the passkey
// ceremonies' fetch calls.

const (
	ctxMFAMethods = "portier.mfa_methods" // []db.MFAMethod, set by enrolling
	ctxMFAChoices = "portier.mfa_choices" // []mfaChoice, set by verifying
)

// elsewhere sends the person to dest instead of the page they asked for.
type elsewhere func(s *Server, c *echo.Context, dest string) error

func toPage(s *Server, c *echo.Context, dest string) error { return s.redirect(c, dest) }

func toJSON(s *Server, c *echo.Context, dest string) error {
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
}

// enrolling lets the request through when the person may enrol a method now (enrolGate), with their
// methods for enrolMethods.
func (s *Server) enrolling(answer elsewhere) echo.MiddlewareFunc {
	return gate(s, s.enrolGate, ctxMFAMethods, answer)
}

// verifying lets the request through when the person is at the second-factor step (mfaGate), with the
// methods to choose from for mfaChoicesOf.
func (s *Server) verifying(answer elsewhere) echo.MiddlewareFunc {
	return gate(s, s.mfaGate, ctxMFAChoices, answer)
}

// gate runs check for the signed-in person: a destination sends them there, anything else is kept under
// key for the handler.
func gate[T any](s *Server, check func(*echo.Context, *db.User) (T, string, error), key string, answer elsewhere) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			got, dest, err := check(c, currentUser(c))
			if err != nil {
				return err
			}
			if dest != "" {
				return answer(s, c, dest)
			}
			c.Set(key, got)
			return next(c)
		}
	}
}

// emailCodesOffered: without a mail server no code reaches anyone, so e-mail codes are not offered.
func (s *Server) emailCodesOffered(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if s.cfg.NoMailServer {
			return s.redirect(c, "/mfa/setup")
		}
		return next(c)
	}
}

// passkeysOffered: browsers refuse passkeys when the base URL is an IP address (s.passkeys is nil then).
func (s *Server) passkeysOffered(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if s.passkeys == nil {
			return errNoWebAuthn
		}
		return next(c)
	}
}

// enrolMethods are the person's methods, as enrolling loaded them (none: the first-login pipeline).
func enrolMethods(c *echo.Context) []db.MFAMethod {
	m, _ := c.Get(ctxMFAMethods).([]db.MFAMethod)
	return m
}

// mfaChoicesOf are the methods to choose from, as verifying loaded them.
func mfaChoicesOf(c *echo.Context) []mfaChoice {
	ch, _ := c.Get(ctxMFAChoices).([]mfaChoice)
	return ch
}

// enrolGate decides whether the person may enrol a method now. Enrolment is open to a person without any
// method (the first-login pipeline) and to one who passed the second factor in this session; adding a
// further method needs the password entered in the last 10 minutes. It returns the enrolled methods, or
// where to send the person instead.
func (s *Server) enrolGate(c *echo.Context, u *db.User) ([]db.MFAMethod, string, error) {
	ctx := c.Request().Context()
	methods, step, err := s.methodsAfterPassword(c, u)
	if err != nil || step != "" {
		return nil, step, err
	}
	if len(methods) == 0 {
		return methods, "", nil
	}
	if !s.sm.GetBool(ctx, keyMFAOK) {
		return nil, "/mfa", nil
	}
	if !s.recentPassword(c) {
		back := c.Request().URL.Path
		if c.Request().Method != http.MethodGet {
			back = "/security"
		}
		return nil, "/security/confirm?next=" + url.QueryEscape(back), nil
	}
	return methods, "", nil
}

// mfaGate loads what the sign-in step needs, or says where the person belongs instead.
func (s *Server) mfaGate(c *echo.Context, u *db.User) ([]mfaChoice, string, error) {
	ctx := c.Request().Context()
	methods, step, err := s.methodsAfterPassword(c, u)
	if err != nil || step != "" {
		return nil, step, err
	}
	if len(methods) == 0 {
		return nil, "/mfa/setup", nil
	}
	if s.sm.GetBool(ctx, keyMFAOK) {
		dest, err := s.nextURL(c, u)
		return nil, dest, err
	}
	choices, err := s.mfaChoices(c, u, methods)
	return choices, "", err
}

// methodsAfterPassword is where both gates start: a person with an earlier first-login step to do goes
// there (step), everyone else has their methods loaded.
func (s *Server) methodsAfterPassword(c *echo.Context, u *db.User) ([]db.MFAMethod, string, error) {
	if step, err := s.preMFAStep(c, u); err != nil || step != "" {
		return nil, step, err
	}
	methods, err := s.db.MFAMethods(c.Request().Context(), u.ID)
	return methods, "", err
}
