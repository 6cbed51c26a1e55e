package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// Invitations on the people pages (people.go): inviting, re-sending, revoking. Without a mail server the
// page shows what to do with the link instead (invite_nomail.go).

// readInviteForm reads and checks the invitation form. Only the roles in choices can be asked for.
func readInviteForm(c *echo.Context, choices []views.PeopleChoice) (views.InviteForm, bool) {
	f := views.InviteForm{
		Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
		Role: c.FormValue("role"), Lang: c.FormValue("lang"),
	}
	if f.Email == "" {
		f.EmailErr = "people.error.email_required"
	} else if !inviteEmailOK(f.Email) {
		f.EmailErr = "people.error.email_invalid"
	}
	if !peopleTextOK(f.Name, 100) {
		f.NameErr = "people.error.name_invalid"
	}
	if !roleAllowed(choices, f.Role) {
		f.RoleErr = "people.error.role"
	}
	if !i18n.Supported(f.Lang) {
		f.LangErr = "people.error.lang"
	}
	return f, f.EmailErr == "" && f.NameErr == "" && f.RoleErr == "" && f.LangErr == ""
}

// inviteEmailOK is ValidEmail, stricter for invitations: no quoted local parts, and a domain with a dot,
// because the address must receive the invitation mail.
func inviteEmailOK(addr string) bool {
	if !utf8.ValidString(addr) || strings.ContainsAny(addr, " <>,;\"\\") || !accounts.ValidEmail(addr) {
		return false
	}
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && strings.Contains(addr[at+1:], ".") && !strings.HasSuffix(addr, ".")
}

// peopleTextOK accepts valid UTF-8 without control characters, at most max characters.
func peopleTextOK(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// inviteFlash is the page's message for what Invite did.
func inviteFlash(r accounts.InviteResult) string {
	switch r {
	case accounts.Resent:
		return "people.flash.resent"
	case accounts.AlreadyMember:
		return "people.flash.already_member"
	}
	return "people.flash.invited"
}

// peopleInvite invites a person to the place: a manager or viewer of an organisation, an administrator or
// technician of the staff. In an organisation the answer is the same for an unknown address, one of
// another organisation and one of MSP staff (see accounts.Invite).
func (s *Server) peopleInvite(c *echo.Context) error {
	ctx := c.Request().Context()
	pl := placeOf(c)
	f, ok := readInviteForm(c, pl.roles)
	if ok {
		by, err := s.actor(c)
		if err != nil {
			return err
		}
		sent, err := s.accounts.Invite(ctx, accounts.InviteRequest{Email: f.Email, Name: f.Name, Lang: f.Lang, OrgID: pl.orgID,
			Role: f.Role, By: by, Actor: s.auditEntry(c, pl.orgID, "", "")})
		if key := refusalKey(err); key != "" {
			f.EmailErr, ok = key, false
		} else if errors.Is(err, accounts.ErrRoleDiffers) {
			f.RoleErr, ok = "staff.error.role_differs", false
		} else if err != nil {
			return notFound(err)
		} else {
			return s.invited(c, sent, inviteFlash(sent.Result))
		}
	}
	v, err := s.peopleView(c)
	if err != nil {
		return err
	}
	v.Invite = f
	return s.renderPeople(c, http.StatusUnprocessableEntity, v)
}

// invitationFor loads the invitation of the path's :id if it belongs to the route's place and asks the
// policy whether the signed-in person may do action to it. An invitation that was accepted or revoked
// answers 409.
func (s *Server) invitationFor(c *echo.Context, action access.Action) (*db.Invitation, error) {
	ctx := c.Request().Context()
	pl := placeOf(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, db.ErrNotFound
	}
	inv, err := s.db.InvitationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if inv.OrgID != pl.orgID {
		return nil, db.ErrNotFound
	}
	invitee, err := s.db.UserByID(ctx, inv.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.decide(c, action, pl.orgID, invitee); err != nil {
		return nil, err
	}
	if inv.Status != db.InvitePending && inv.Status != db.InviteExpired {
		return nil, db.ErrConflict
	}
	return inv, nil
}

// invitationResend sends an open invitation again with a new link; the old link dies.
func (s *Server) invitationResend(c *echo.Context) error {
	inv, err := s.invitationFor(c, access.ResendInvitation)
	if err != nil {
		return s.peopleRefusal(c, err)
	}
	by, err := s.actor(c)
	if err != nil {
		return err
	}
	sent, err := s.accounts.Reissue(c.Request().Context(), inv.ID, by, s.auditEntry(c, placeOf(c).orgID, "", ""))
	if err != nil {
		return s.peopleRefusal(c, err)
	}
	return s.invited(c, sent, "people.flash.resent")
}

// invitationRevoke withdraws an open invitation. The person keeps everything else: the invitation gave
// them nothing.
func (s *Server) invitationRevoke(c *echo.Context) error {
	inv, err := s.invitationFor(c, access.RevokeInvitation)
	if err == nil {
		err = s.accounts.Revoke(c.Request().Context(), inv, s.auditEntry(c, 0, "", ""))
	}
	if err != nil {
		return s.peopleRefusal(c, err)
	}
	return s.peopleDone(c, "people.flash.revoked")
}
