package handlers

import (
	"errors"

	"github.com/labstack/echo/v5"

	"portier/signin"
)

// The person's own sessions on the profile page: end one, or all the others.

// sessionEnd signs out one other session of the person.
func (s *Server) sessionEnd(c *echo.Context) error {
	ctx := c.Request().Context()
	err := s.signin.EndSession(ctx, currentUser(c), s.sm.Token(ctx), c.FormValue("id"), s.auditEntry(c, 0, "", ""))
	if errors.Is(err, signin.ErrNoSuchSession) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	return s.profileDone(c, "profile.sessions.ended")
}

// sessionsEndOthers signs out every session of the person except this one.
func (s *Server) sessionsEndOthers(c *echo.Context) error {
	ctx := c.Request().Context()
	if err := s.signin.EndOtherSessions(ctx, currentUser(c), s.sm.Token(ctx), s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	return s.profileDone(c, "profile.sessions.ended_others")
}
