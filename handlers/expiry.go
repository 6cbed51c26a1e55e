package handlers

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/db"
	"portier/docs"
	"portier/i18n"
	"portier/views"
)

// What expires next: warranty ends and custom dates marked as expiries, the licences, certificates,
// domains and contracts kept for an organisation, and the age of stored passwords — per organisation (its
// customers see what is not staff-only) and across all organisations for staff, with a weekly digest by
// mail to whom the organisation chooses.

// PasswordMaxAge is the age at which a stored password shows as due for a change (BSI IT-Grundschutz
// no longer asks for periodic changes of users' own passwords, but service and admin passwords that
// several people knew are what MSPs rotate yearly).
const PasswordMaxAge = 365 * 24 * time.Hour

// digestEvery is the digest's rhythm; digestAhead how far ahead it looks.
const (
	digestEvery = 7 * 24 * time.Hour
	digestAhead = 30
)

// expiryEntries gathers the scope's dated things, with the date fields (built-in and custom) that count.
func (s *Server) expiryEntries(ctx context.Context, sc db.ExpiryScope, loc *time.Location) ([]db.ExpiryEntry, map[string]string, error) {
	areas, err := s.areasFor(ctx)
	if err != nil {
		return nil, nil, err
	}
	var dates []db.ExpiryDate
	labels := map[string]string{} // source → label key (a custom field's label as typed)
	for _, a := range areas {
		for _, f := range a.Fields {
			if f.Kind == docs.Date && f.Expiry {
				dates = append(dates, db.ExpiryDate{Area: a.Name, Field: f.Name})
				labels[f.Name] = f.LabelKey(a.Name)
			}
		}
	}
	for _, k := range db.ExpiryKinds {
		labels[k] = "expiry.kind." + k
	}
	labels["password"] = "expiry.kind.password"
	entries, err := s.db.ExpiryOverview(ctx, sc, dates, PasswordMaxAge, loc)
	return entries, labels, err
}

// daysUntil counts calendar days from today to the date, in the viewer's time zone. In whole Unix days,
// not through Sub: a time.Duration spans only 292 years, and a date field takes 0001-01-01 to 9999-12-31.
func daysUntil(now, date time.Time, loc *time.Location) int {
	day := func(t time.Time) int64 {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	return int(day(date) - day(now))
}

// filterExpiries keeps the entries of a window: "30" and "90" (days ahead, the expired included, since
// they are the most urgent), "expired", or "all".
func filterExpiries(in []db.ExpiryEntry, window string, now time.Time, loc *time.Location) []db.ExpiryEntry {
	var out []db.ExpiryEntry
	for _, e := range in {
		d := daysUntil(now, e.Date, loc)
		switch window {
		case "30":
			if d > 30 {
				continue
			}
		case "90":
			if d > 90 {
				continue
			}
		case "expired":
			if d >= 0 {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func sortExpiries(es []db.ExpiryEntry, by string, desc bool, kindLabel func(db.ExpiryEntry) string) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if desc {
			a, b = b, a
		}
		switch by {
		case "name":
			if x, y := strings.ToLower(a.Name), strings.ToLower(b.Name); x != y {
				return x < y
			}
		case "kind":
			if x, y := kindLabel(a), kindLabel(b); x != y {
				return x < y
			}
		case "org":
			if x, y := strings.ToLower(a.OrgName), strings.ToLower(b.OrgName); x != y {
				return x < y
			}
		}
		if !a.Date.Equal(b.Date) {
			return a.Date.Before(b.Date)
		}
		return a.Name < b.Name
	})
}

// Plural messages: the files hold each with ".one" and ".other" (Localizer.N).
const (
	pluralInDays      = "expiry.in_days"
	pluralDaysAgo     = "expiry.days_ago"
	pluralDigestIntro = "mail.expiry_digest.intro"
	// how many addresses the digest goes to, in the activity log
	pluralDigestRecipients = "expiry.digest.recipients_n"
)

// leftText says how far away a date is: "today", "in 3 days", "2 days ago".
func leftText(l *i18n.Localizer, days int) string {
	switch {
	case days == 0:
		return l.T("expiry.today")
	case days > 0:
		return l.N(pluralInDays, days)
	}
	return l.N(pluralDaysAgo, -days)
}

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
func (s *Server) expiryView(c *echo.Context, sc db.ExpiryScope, base string) (views.ExpiryView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	entries, labels, err := s.expiryEntries(ctx, sc, l.TZ)
	if err != nil {
		return views.ExpiryView{}, err
	}
	q := c.QueryParams()
	window := q.Get("window")
	if window != "30" && window != "90" && window != "expired" && window != "all" {
		window = "90"
	}
	by := q.Get("sort")
	if by != "name" && by != "kind" && !(by == "org" && sc.OrgID == 0) {
		by = "date"
	}
	desc := q.Get("desc") == "1"
	now := s.now()
	kindLabel := func(e db.ExpiryEntry) string { return l.T(labels[e.Source]) }
	entries = filterExpiries(entries, window, now, l.TZ)
	sortExpiries(entries, by, desc, kindLabel)
	link := func(w, b string, d bool) string {
		v := url.Values{"window": {w}, "sort": {b}}
		if d {
			v.Set("desc", "1")
		}
		return base + "?" + v.Encode()
	}
	v := views.ExpiryView{ShowOrg: sc.OrgID == 0}
	for _, w := range []string{"30", "90", "expired", "all"} {
		v.Windows = append(v.Windows, views.ExpiryLink{LabelKey: "expiry.window." + w, Href: link(w, by, desc), Current: w == window})
	}
	sorts := []string{"date", "name", "kind"}
	if sc.OrgID == 0 {
		sorts = append(sorts, "org")
	}
	for _, b := range sorts {
		v.Sorts = append(v.Sorts, views.ExpiryLink{LabelKey: "expiry.sort." + b, Href: link(window, b, b == by && !desc), Current: b == by})
	}
	for _, e := range entries {
		days := daysUntil(now, e.Date, l.TZ)
		row := views.ExpiryRow{Kind: kindLabel(e), Name: e.Name, OrgName: e.OrgName, Date: l.Date(e.Date), Left: leftText(l, days),
			State: expiryState(days), StaffOnly: e.StaffOnly}
		if e.Source == "password" {
			row.Left = l.T("expiry.password_set", "date", l.Date(e.Changed)) + " · " + row.Left
		}
		if e.Area != "" {
			row.Href = "/o/" + e.OrgSlug + "/docs/" + e.Area + "/" + strconv.FormatInt(e.ItemID, 10)
		} else if sc.StaffView && sc.OrgID != 0 {
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
	v, err := s.expiryView(c, db.ExpiryScope{OrgID: org.ID, StaffView: u.IsStaff()}, base)
	if err != nil {
		return err
	}
	nav, err := s.docsNav(c, org, db.DocScope{OrgID: org.ID, StaffView: u.IsStaff()}, "expiry", "")
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
	if access.ManagesOrg(orgActor(c)) {
		dg, err := s.db.ExpiryDigestOf(ctx, org.ID)
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
	v, err := s.expiryView(c, db.ExpiryScope{StaffView: true}, "/staff/expiry")
	if err != nil {
		return err
	}
	v.StaffNav = staffNav(c, "expiry")
	return s.render(c, http.StatusOK, views.Expiry(s.shell(c, l.T("expiry.title")), v), nil)
}

func (s *Server) expiryAdd(c *echo.Context) error {
	org, _ := currentOrg(c)
	e := db.Expiry{OrgID: org.ID, Kind: c.FormValue("kind"), StaffOnly: c.FormValue("staff_only") != ""}
	errs := map[string]string{}
	var ek string
	if e.Name, ek = (docs.Field{Name: "name", Kind: docs.Text, Required: true}).Clean(c.FormValue("name")); ek != "" {
		errs["name"] = ek
	}
	if e.ExpiresOn, ek = (docs.Field{Name: "expires_on", Kind: docs.Date, Required: true}).Clean(c.FormValue("expires_on")); ek != "" {
		errs["expires_on"] = ek
	}
	known := false
	for _, k := range db.ExpiryKinds {
		known = known || k == e.Kind
	}
	if !known {
		return echo.ErrBadRequest
	}
	if len(errs) > 0 {
		return s.renderExpiryPage(c, http.StatusUnprocessableEntity, errs)
	}
	ctx := c.Request().Context()
	_, err := s.db.ExpiryCreate(ctx, e, func(tx dbTx, id int64) error {
		a := s.auditEntry(c, org.ID, "expiry.create", strconv.FormatInt(id, 10)+":"+e.Kind+":"+e.Name)
		a.StaffOnly = e.StaffOnly
		return s.db.Audit(ctx, tx, a)
	})
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
	err = s.db.ExpiryDelete(ctx, org.ID, id, func(tx dbTx, e db.Expiry) error {
		a := s.auditEntry(c, org.ID, "expiry.delete", strconv.FormatInt(id, 10)+":"+e.Kind+":"+e.Name)
		a.StaffOnly = e.StaffOnly
		return s.db.Audit(ctx, tx, a)
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "expiry.deleted")
	return s.redirect(c, "/o/"+org.Slug+"/expiry")
}
