package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

func staffNav(c *echo.Context, current string) views.StaffNav {
	return views.StaffNav{IsAdmin: currentUser(c).IsAdmin(), Current: current}
}

// staffHome lists every organisation with its number of people, and the form to create one.
func (s *Server) staffHome(c *echo.Context) error {
	if sent, err := s.mspSetupFirst(c); sent || err != nil {
		return err
	}
	v := views.StaffHomeView{FlashKey: s.sm.PopString(c.Request().Context(), keyFlash)}
	return s.renderStaffHome(c, http.StatusOK, v)
}

func (s *Server) renderStaffHome(c *echo.Context, status int, v views.StaffHomeView) error {
	ctx := c.Request().Context()
	orgs, err := s.db.Orgs(ctx)
	if err != nil {
		return err
	}
	v.Nav = staffNav(c, "orgs")
	for _, o := range orgs {
		v.Orgs = append(v.Orgs, views.StaffOrgRow{Name: o.Name, Slug: o.Slug, People: o.People})
	}
	l := i18n.From(ctx)
	return s.render(c, status, views.StaffHome(s.shell(c, l.T("staff.orgs.title")), v), nil)
}

// staffCreateOrg creates an organisation. The slug is derived from the name unless one is given.
func (s *Server) staffCreateOrg(c *echo.Context) error {
	ctx := c.Request().Context()
	by, err := s.actor(c)
	if err != nil {
		return err
	}
	if sent, err := s.mspSetupFirst(c); sent || err != nil {
		return err
	}
	f := views.OrgCreateForm{Name: strings.TrimSpace(c.FormValue("name")), Slug: strings.TrimSpace(c.FormValue("slug"))}
	o, err := s.accounts.CreateOrg(ctx, by, f.Name, f.Slug, s.auditEntry(c, 0, "", ""))
	var bad accounts.Invalid
	switch {
	case errors.As(err, &bad):
		f.NameErr, f.SlugErr = bad["name"], bad["slug"]
		return s.renderStaffHome(c, http.StatusUnprocessableEntity, views.StaffHomeView{Form: f})
	case errors.Is(err, accounts.ErrSlugTaken):
		f.Slug, f.SlugErr = accounts.OrgSlug(f.Name, f.Slug), "staff.error.slug_taken"
		return s.renderStaffHome(c, http.StatusUnprocessableEntity, views.StaffHomeView{Form: f})
	case err != nil:
		return notFound(err)
	}
	s.sm.Put(ctx, keyFlash, "staff.flash.org_created")
	return s.redirect(c, "/o/"+o.Slug+"/people")
}

// Invitation lifetime bounds, in days.
const (
	minInviteDays = 1
	maxInviteDays = 30
)

// settingsView fills the settings page with the stored values.
func (s *Server) settingsView(c *echo.Context) (views.SettingsView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	m := s.msp.Load()
	v := views.SettingsView{
		Nav: staffNav(c, "settings"), MSPName: m.Name, SupportEmail: m.SupportEmail, SupportPhone: m.SupportPhone,
		TTLDays: strconv.Itoa(s.accounts.InviteDays(ctx)),
	}
	t, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return v, err
	}
	if t != nil {
		v.TermsVersion, v.TermsPublished, v.TermsDE, v.TermsEN = t.Version, l.Date(t.PublishedAt), t.TextDE, t.TextEN
	}
	return v, nil
}

func (s *Server) renderSettings(c *echo.Context, status int, v views.SettingsView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.Settings(s.shell(c, l.T("settings.title")), v), nil)
}

func (s *Server) settingsPage(c *echo.Context) error {
	v, err := s.settingsView(c)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	return s.renderSettings(c, http.StatusOK, v)
}

// phoneOK accepts what people write in a phone number: digits, spaces, + ( ) / - and dots.
func phoneOK(p string) bool {
	if len(p) > 40 {
		return false
	}
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '(', r == ')', r == '/', r == '-', r == '.':
		default:
			return false
		}
	}
	return digits >= 3
}

// settingsSave stores the MSP's name, support contact and the invitation lifetime, and shows the new
// values everywhere at once.
func (s *Server) settingsSave(c *echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.settingsView(c)
	if err != nil {
		return err
	}
	v.MSPName = strings.TrimSpace(c.FormValue("msp_name"))
	v.SupportEmail = strings.TrimSpace(c.FormValue("support_email"))
	v.SupportPhone = strings.TrimSpace(c.FormValue("support_phone"))
	v.TTLDays = strings.TrimSpace(c.FormValue("ttl_days"))
	v.NameErr, v.EmailErr, v.PhoneErr = mspProblems(v.MSPName, v.SupportEmail, v.SupportPhone)
	days, err := strconv.Atoi(v.TTLDays)
	if err != nil || days < minInviteDays || days > maxInviteDays {
		v.TTLErr = "settings.error.ttl"
	}
	if v.NameErr != "" || v.EmailErr != "" || v.PhoneErr != "" || v.TTLErr != "" {
		return s.renderSettings(c, http.StatusUnprocessableEntity, v)
	}
	if err := s.saveSettings(c, accounts.Settings{MSPName: v.MSPName, SupportEmail: v.SupportEmail, SupportPhone: v.SupportPhone, InviteDays: days}); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "settings.flash.saved")
	return s.redirect(c, "/staff/settings")
}

// maxTermsLen bounds each language's terms text (characters).
const maxTermsLen = 50000

// termsPublish publishes a new version of the terms of use; everyone is asked to accept it again.
func (s *Server) termsPublish(c *echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.settingsView(c)
	if err != nil {
		return err
	}
	v.TermsDE = strings.TrimSpace(strings.ReplaceAll(c.FormValue("terms_de"), "\r\n", "\n"))
	v.TermsEN = strings.TrimSpace(strings.ReplaceAll(c.FormValue("terms_en"), "\r\n", "\n"))
	for _, f := range []struct {
		text string
		err  *string
	}{{v.TermsDE, &v.TermsDEErr}, {v.TermsEN, &v.TermsENErr}} {
		switch {
		case f.text == "":
			*f.err = "settings.error.terms_required"
		case !termsTextOK(f.text):
			*f.err = "settings.error.terms_invalid"
		}
	}
	if v.TermsDEErr != "" || v.TermsENErr != "" {
		return s.renderSettings(c, http.StatusUnprocessableEntity, v)
	}
	if _, err := s.accounts.PublishTerms(ctx, currentUser(c), v.TermsDE, v.TermsEN, s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "settings.flash.terms_published")
	return s.redirect(c, "/staff/settings")
}

// termsTextOK: valid UTF-8, bounded, no control characters but line breaks and tabs.
func termsTextOK(t string) bool {
	if len([]rune(t)) > maxTermsLen {
		return false
	}
	return peopleTextOK(strings.NewReplacer("\n", " ", "\t", " ").Replace(t), maxTermsLen)
}
