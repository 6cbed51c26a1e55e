package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/i18n"
	"portier/views"
)

// invited ends an invite or re-send on a people page. With a mail server the invitation mail is on its way:
// back to the page with the flash. Without one nobody would ever learn the link, so the page is rendered
// at once (the link is never stored, not even in the session): MSP staff see the link to pass on; a
// customer's manager sees that the mail could not be sent and whom to ask, never a link, since handing out
// access is the MSP's decision to make over a channel it trusts.
func (s *Server) invited(c *echo.Context, sent accounts.Sent, flash string) error {
	if !s.cfg.NoMailServer || sent.Inv == nil {
		return s.peopleDone(c, flash)
	}
	v, err := s.peopleView(c)
	if err != nil {
		return err
	}
	l := i18n.From(c.Request().Context())
	nm := &views.InviteNoMail{Email: sent.Inv.Email}
	if currentUser(c).IsStaff() {
		nm.Link, nm.Until = sent.Link, l.DateTime(sent.Inv.ExpiresAt)
	} else {
		nm.MSP, nm.Contact = s.msp.Load().Name, s.mails.SupportContact()
	}
	v.NoMail = nm
	return s.renderPeople(c, http.StatusOK, v)
}
