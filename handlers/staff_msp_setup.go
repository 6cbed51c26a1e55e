package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The first administrator names the MSP before anything goes out under its name: right after the first
// sign-in, before the first organisation, a short step asks for the MSP's name and support contact.
// Until then invitations would say "Portier" and point to support@localhost.

// needsMSPSetup: an administrator of an installation that has no organisation yet and has not named its
// MSP. An installation that already has organisations (an upgrade) is never asked.
func (s *Server) needsMSPSetup(c *echo.Context) (bool, error) {
	if !currentUser(c).IsAdmin() {
		return false, nil
	}
	ctx := c.Request().Context()
	done, err := s.db.Setting(ctx, db.SettingMSPSetup, "")
	if err != nil || done != "" {
		return false, err
	}
	any, err := s.db.HasOrgs(ctx)
	return !any, err
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

// saveSettings stores the MSP's settings through accounts.SaveSettings (one transaction, audited), the
// one save path of the settings page and the setup step, and shows the new values everywhere at once.
func (s *Server) saveSettings(c *echo.Context, v accounts.Settings) error {
	ctx := c.Request().Context()
	old := s.msp.Load()
	err := s.accounts.SaveSettings(ctx,
		accounts.Settings{MSPName: old.Name, SupportEmail: old.SupportEmail, SupportPhone: old.SupportPhone, InviteDays: s.accounts.InviteDays(ctx)},
		v, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	return s.msp.Reload(ctx)
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
	err = s.saveSettings(c, accounts.Settings{MSPName: v.Name, SupportEmail: v.Email, SupportPhone: v.Phone,
		InviteDays: s.accounts.InviteDays(c.Request().Context()), Logo: logo})
	if err != nil {
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
