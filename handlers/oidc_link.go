package handlers

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/idp"
	"portier/views"
)

// Sign-in through an organisation's provider (oidc.go), linking from the security page: a person who
// signs in with a password (and Portier's second factor) links the provider account of their organisation,
// so that "Continue with …" works for them too.

// idpLinkRows lists the providers of the person's organisations, linked or not.
func (s *Server) idpLinkRows(c *echo.Context, u *db.User) ([]views.IdPLinkRow, error) {
	if u.IsStaff() {
		return nil, nil
	}
	ctx := c.Request().Context()
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	ids, err := s.db.IdentitiesOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var rows []views.IdPLinkRow
	for _, m := range ms {
		p, err := s.db.IdPByOrg(ctx, m.Org.ID)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r := views.IdPLinkRow{IdPID: p.ID, Provider: p.Name, Kind: p.Kind, Org: m.Org.Name}
		for _, i := range ids {
			if i.IdPID == p.ID {
				r.Linked, r.Email = true, i.Email
			}
		}
		rows = append(rows, r)
	}
	if len(rows) > 0 {
		origins := make([]string, 0, len(rows))
		for _, r := range rows {
			if p, err := s.db.IdPByID(ctx, r.IdPID); err == nil {
				origins = append(origins, s.idpOrigin(p))
			}
		}
		allowFormActionTo(c, origins)
	}
	return rows, nil
}

// idpLinkStart sends a signed-in person to their organisation's provider to link their account there.
// Like adding a second factor, it needs the password entered in the last 10 minutes.
func (s *Server) idpLinkStart(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.ErrNotFound
	}
	p, err := s.db.IdPByID(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.db.MemberRole(ctx, u.ID, p.OrgID); err != nil {
		return err // another organisation's provider: the same answer as one that does not exist
	}
	if !s.recentPassword(c) {
		return s.redirect(c, "/security/confirm?next="+url.QueryEscape("/security"))
	}
	return s.idpStart(c, p, idpFlow{Purpose: purposeLink, UID: u.ID}, u.Email)
}

// idpLinkFinish links the provider account to the person who asked, when the provider vouches for the
// person's own address.
func (s *Server) idpLinkFinish(c *echo.Context, f *idpFlow, p *db.IdP, id *idp.Identity) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u == nil || u.ID != f.UID {
		return s.idpProblem(c, http.StatusBadRequest, "idp.error.state", p.Name)
	}
	if step, err := s.nextStep(c, u); err != nil || step != "" {
		return s.idpProblem(c, http.StatusBadRequest, "idp.error.state", p.Name)
	}
	refuse := func(key string) error {
		s.audit(c, p.OrgID, "idp.refused", p.Name+": "+id.Key+" ("+strings.TrimPrefix(key, "idp.refused.")+")")
		return s.idpProblem(c, http.StatusForbidden, key, p.Name)
	}
	if _, err := s.db.MemberRole(ctx, u.ID, p.OrgID); errors.Is(err, db.ErrNotFound) {
		return refuse("idp.refused.no_account")
	} else if err != nil {
		return err
	}
	if !id.Vouched {
		return refuse(id.RefusalKey)
	}
	if id.Email != u.Email { // both lower-cased; EqualFold would also match ſ with s
		return refuse("idp.refused.link_address")
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.LinkIdentity(ctx, tx, s.now(), u.ID, p.ID, id.Key, id.Email); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, p.OrgID, "idp.link", p.Name+": "+id.Key))
	})
	if errors.Is(err, db.ErrConflict) {
		return refuse("idp.refused.taken")
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "idp.link.done")
	return s.redirect(c, "/security")
}
