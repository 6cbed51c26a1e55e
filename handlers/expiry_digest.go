package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

// What expires next, by mail (expiry.go is the page): who gets the weekly digest (docsapp decides what an
// address is and how many there may be).

// expiryDigestSave stores who gets the organisation's weekly digest (its managers and staff decide).
func (s *Server) expiryDigestSave(c *echo.Context) error {
	org, _ := currentOrg(c)
	rcpt := strings.FieldsFunc(c.FormValue("recipients"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' || r == ' ' || r == '\r' })
	ctx := c.Request().Context()
	err := s.docs.SetExpiryDigest(ctx, s.viewer(c), c.FormValue("lang"), rcpt)
	if errs, ok := fieldErrors(err); ok {
		return s.renderExpiryPage(c, http.StatusUnprocessableEntity, errs)
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "expiry.digest.saved")
	return s.redirect(c, "/o/"+org.Slug+"/expiry")
}
