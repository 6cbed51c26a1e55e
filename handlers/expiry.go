package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docsapp"
	"portier/i18n"
	"portier/mailtext"
	"portier/views"
)

// What expires next: warranty ends and custom dates marked as expiries, the licences, certificates,
// domains and contracts kept for an organisation, and the age of stored passwords — per organisation (its
// customers see what is not staff-only) and across all organisations for staff, with a weekly digest by
// mail to whom the organisation chooses.

// pluralDigestRecipients: how many addresses the digest goes to, in the activity log (the files hold it
// with ".one" and ".other", Localizer.N).
const pluralDigestRecipients = "expiry.digest.recipients_n"

func expiryState(days int) string {
	switch {
	case days < 0:
		return "expired"
	case days <= 30:
		return "soon"
	}
	return ""
}

// expiryView builds the overview for the scope; base is the page's own address (for its links).
func (s *Server) expiryView(c *echo.Context, base string) (views.ExpiryView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	v0 := s.viewer(c)
	all := v0.Org == nil // every organisation's (staff), not one's
	entries, labels, err := s.docs.Expiries(ctx, v0)
	if err != nil {
		return views.ExpiryView{}, err
	}
	q := c.QueryParams()
	window := q.Get("window")
	if window != "30" && window != "90" && window != "expired" && window != "all" {
		window = "90"
	}
	by := q.Get("sort")
	if by != "name" && by != "kind" && !(by == "org" && all) {
		by = "date"
	}
	desc := q.Get("desc") == "1"
	now := s.now()
	kindLabel := func(e db.ExpiryEntry) string { return l.T(labels[e.Source]) }
	entries = docsapp.FilterExpiries(entries, window, now, l.TZ)
	docsapp.SortExpiries(entries, by, desc, kindLabel)
	link := func(w, b string, d bool) string {
		v := url.Values{"window": {w}, "sort": {b}}
		if d {
			v.Set("desc", "1")
		}
		return base + "?" + v.Encode()
	}
	v := views.ExpiryView{ShowOrg: all}
	for _, w := range []string{"30", "90", "expired", "all"} {
		v.Windows = append(v.Windows, views.ExpiryLink{LabelKey: "expiry.window." + w, Href: link(w, by, desc), Current: w == window})
	}
	sorts := []string{"date", "name", "kind"}
	if all {
		sorts = append(sorts, "org")
	}
	for _, b := range sorts {
		v.Sorts = append(v.Sorts, views.ExpiryLink{LabelKey: "expiry.sort." + b, Href: link(window, b, b == by && !desc), Current: b == by})
	}
	for _, e := range entries {
		days := docsapp.DaysUntil(now, e.Date, l.TZ)
		row := views.ExpiryRow{Kind: kindLabel(e), Name: e.Name, OrgName: e.OrgName, Date: l.Date(e.Date), Left: mailtext.DaysLeft(l, days),
			State: expiryState(days), StaffOnly: e.StaffOnly}
		if e.Source == "password" {
			row.Left = l.T("expiry.password_set", "date", l.Date(e.Changed)) + " · " + row.Left
		}
		if e.Area != "" {
			row.Href = "/o/" + e.OrgSlug + "/docs/" + e.Area + "/" + strconv.FormatInt(e.ItemID, 10)
		} else if v0.Staff && !all {
			row.DeleteURL = base + "/" + strconv.FormatInt(e.ItemID, 10) + "/delete"
			v.Actions = true
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

func (s *Server) expiryPage(c *echo.Context) error {
	return s.renderExpiryPage(c, http.StatusOK, nil)
}

func (s *Server) renderExpiryPage(c *echo.Context, status int, addErrs map[string]string) error {
	u := currentUser(c)
	org, _ := currentOrg(c)
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	base := "/o/" + org.Slug + "/expiry"
	v, err := s.expiryView(c, base)
	if err != nil {
		return err
	}
	nav, err := s.docsMenu(c, org, s.viewer(c).Scope(), "expiry", "")
	if err != nil {
		return err
	}
	v.Nav = &nav
	if key := s.sm.PopString(ctx, keyFlash); strings.HasPrefix(key, "expiry.") {
		v.FlashKey = key
	}
	if u.IsStaff() {
		v.AddAction, v.AddErrors = base, addErrs
		for _, k := range db.ExpiryKinds {
			v.AddKinds = append(v.AddKinds, views.FilterOption{Value: k, LabelKey: "expiry.kind." + k})
		}
	}
	if vw := s.viewer(c); vw.CanManageDigest() {
		dg, err := s.docs.ExpiryDigest(ctx, vw)
		if err != nil {
			return err
		}
		v.Digest = &views.ExpiryDigestForm{Action: base + "/digest", Recipients: strings.Join(dg.Recipients, "\n"), Lang: dg.Lang}
		if !dg.LastSent.IsZero() {
			v.Digest.LastSent = l.DateTime(dg.LastSent)
		}
		if addErrs["recipients"] != "" {
			v.Digest.ErrorKey = addErrs["recipients"]
			v.Digest.Recipients = c.FormValue("recipients")
		}
	}
	return s.render(c, status, views.Expiry(s.shell(c, l.T("expiry.title")), v), nil)
}

func (s *Server) staffExpiry(c *echo.Context) error {
	l := i18n.From(c.Request().Context())
	v, err := s.expiryView(c, "/staff/expiry")
	if err != nil {
		return err
	}
	v.StaffNav = staffNav(c, "expiry")
	return s.render(c, http.StatusOK, views.Expiry(s.shell(c, l.T("expiry.title")), v), nil)
}

func (s *Server) expiryAdd(c *echo.Context) error {
	org, _ := currentOrg(c)
	ctx := c.Request().Context()
	err := s.docs.AddExpiry(ctx, s.viewer(c), docsapp.ExpiryInput{Kind: c.FormValue("kind"), Name: c.FormValue("name"),
		ExpiresOn: c.FormValue("expires_on"), StaffOnly: c.FormValue("staff_only") != ""})
	if errs, ok := fieldErrors(err); ok {
		return s.renderExpiryPage(c, http.StatusUnprocessableEntity, errs)
	}
	if errors.Is(err, docsapp.ErrInvalid) {
		return echo.ErrBadRequest // a kind no form offers
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "expiry.added")
	return s.redirect(c, "/o/"+org.Slug+"/expiry")
}

func (s *Server) expiryDelete(c *echo.Context) error {
	org, _ := currentOrg(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	if err := s.docs.DeleteExpiry(ctx, s.viewer(c), id); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "expiry.deleted")
	return s.redirect(c, "/o/"+org.Slug+"/expiry")
}
