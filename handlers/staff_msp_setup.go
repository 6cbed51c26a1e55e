package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The first administrator names the MSP before anything goes out under its name: right after the first
// sign-in, before the first organisation, a short step asks for the MSP's name and support contact.
// Until then invitations would say "Portier" and point to support@localhost.

// settingMSPSetup records that the step was done (or that it is not needed any more).
const settingMSPSetup = "msp.setup_done"

func (s *Server) mspSetupRoutes() {
	admin := []echo.MiddlewareFunc{s.complete, s.staffOnly, s.adminOnly}
	s.e.GET("/staff/welcome", s.mspSetupPage, admin...)
	s.e.POST("/staff/welcome", s.mspSetupSave, admin...)
	s.e.GET("/msp-logo/:name", s.mspLogo)
}

// needsMSPSetup: an administrator of an installation that has no organisation yet and has not named its
// MSP. An installation that already has organisations (an upgrade) is never asked.
func (s *Server) needsMSPSetup(c *echo.Context) (bool, error) {
	if !currentUser(c).IsAdmin() {
		return false, nil
	}
	ctx := c.Request().Context()
	done, err := s.db.Setting(ctx, settingMSPSetup, "")
	if err != nil || done != "" {
		return false, err
	}
	orgs, err := s.db.Orgs(ctx)
	return len(orgs) == 0, err
}

// mspProblems checks an MSP's name and support contact (translation keys, "" for none): the one rule for
// the setup step and the settings page.
func mspProblems(name, email, phone string) (nameErr, emailErr, phoneErr string) {
	switch {
	case name == "":
		nameErr = "settings.error.name_required"
	case !peopleTextOK(name, 100):
		nameErr = "settings.error.name_invalid"
	}
	switch {
	case email == "":
		emailErr = "settings.error.email_required"
	case !inviteEmailOK(email):
		emailErr = "people.error.email_invalid"
	}
	if phone != "" && !phoneOK(phone) {
		phoneErr = "settings.error.phone_invalid"
	}
	return
}

// setting is one stored setting's old and new value.
type setting struct{ key, old, new string }

// saveMSP stores the MSP's name and support contact (and any further settings), shows them everywhere at
// once and audits what changed.
func (s *Server) saveMSP(c *echo.Context, name, email, phone string, more ...setting) error {
	ctx := c.Request().Context()
	old := s.msp.Load()
	var changed []string
	for _, kv := range append([]setting{
		{"msp.name", old.Name, name},
		{"msp.support_email", old.SupportEmail, email},
		{"msp.support_phone", old.SupportPhone, phone},
	}, more...) {
		if kv.old == kv.new {
			continue
		}
		if err := s.db.SetSetting(ctx, kv.key, kv.new); err != nil {
			return err
		}
		changed = append(changed, kv.key+": "+kv.new)
	}
	if err := s.db.SetSetting(ctx, settingMSPSetup, "1"); err != nil {
		return err
	}
	m, err := s.loadMSP(ctx)
	if err != nil {
		return err
	}
	s.msp.Store(&m)
	if len(changed) > 0 {
		s.audit(c, 0, "settings.update", strings.Join(changed, "; "))
	}
	return nil
}

func (s *Server) mspSetupPage(c *echo.Context) error {
	m := s.msp.Load()
	v := views.MSPSetupView{Name: m.Name, Email: m.SupportEmail, Phone: m.SupportPhone, LogoURL: m.LogoURL}
	// The built-in defaults are no answer: an empty field asks for the real one.
	if v.Name == "Portier" {
		v.Name = ""
	}
	if strings.HasSuffix(v.Email, "@localhost") {
		v.Email = ""
	}
	return s.renderMSPSetup(c, http.StatusOK, v)
}

func (s *Server) renderMSPSetup(c *echo.Context, status int, v views.MSPSetupView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.MSPSetup(s.shell(c, l.T("mspsetup.title")), v), nil)
}

func (s *Server) mspSetupSave(c *echo.Context) error {
	v := views.MSPSetupView{
		Name:  strings.TrimSpace(c.FormValue("msp_name")),
		Email: strings.TrimSpace(c.FormValue("support_email")),
		Phone: strings.TrimSpace(c.FormValue("support_phone")),
	}
	v.NameErr, v.EmailErr, v.PhoneErr = mspProblems(v.Name, v.Email, v.Phone)
	logo, logoErr, logoArgs, err := s.readLogo(c)
	if err != nil {
		return err
	}
	v.LogoErr, v.LogoArgs, v.LogoURL = logoErr, logoArgs, s.msp.Load().LogoURL
	if v.NameErr != "" || v.EmailErr != "" || v.PhoneErr != "" || v.LogoErr != "" {
		return s.renderMSPSetup(c, http.StatusUnprocessableEntity, v)
	}
	var more []setting
	if logo != nil {
		st, err := s.saveLogo(c.Request().Context(), logo)
		if err != nil {
			return err
		}
		more = append(more, st)
	}
	if err := s.saveMSP(c, v.Name, v.Email, v.Phone, more...); err != nil {
		return err
	}
	s.sm.Put(c.Request().Context(), keyFlash, "mspsetup.saved")
	return s.redirect(c, "/staff")
}

// mspSetupFirst sends an administrator to the setup step while it is due.
func (s *Server) mspSetupFirst(c *echo.Context) (bool, error) {
	need, err := s.needsMSPSetup(c)
	if err != nil || !need {
		return false, err
	}
	return true, s.redirect(c, "/staff/welcome")
}

// recordInvitation audits an invitation that is handed over in the browser instead of by mail.
func (s *Server) recordInvitation(ctx context.Context, inv *db.Invitation, raw string, actor db.AuditEntry) (string, error) {
	e := actor
	e.OrgID, e.Action, e.Target = inv.OrgID, "invite.create", inv.Email+" ("+inv.Role+")"
	return s.link("/invite/" + raw), s.db.Audit(ctx, nil, e)
}
