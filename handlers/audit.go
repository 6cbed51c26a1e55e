package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/audit"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The audit log pages: an organisation's (for its managers and staff) and the staff's, across every
// organisation. What each viewer may see is audit.Log.Read's to decide.

// orgAudit shows the organisation's audit entries (staff actions on it included) to its managers.
func (s *Server) orgAudit(c *echo.Context) error {
	o, _ := currentOrg(c)
	viewer, _ := orgActor(c)
	v, err := s.auditView(c, viewer, "/o/"+o.Slug+"/audit", o.ID, nil)
	if err != nil {
		return err
	}
	v.OrgName = o.Name
	l := i18n.From(c.Request().Context())
	return s.render(c, http.StatusOK, views.Audit(s.shell(c, l.T("audit.title")), v), nil)
}

// staffAudit is the whole audit log for administrators, filterable by organisation and action.
func (s *Server) staffAudit(c *echo.Context) error {
	ctx := c.Request().Context()
	orgs, err := s.db.Orgs(ctx)
	if err != nil {
		return err
	}
	u := currentUser(c)
	v, err := s.auditView(c, access.Person{ID: u.ID, StaffRole: u.StaffRole}, "/staff/audit", 0, orgs)
	if err != nil {
		return err
	}
	nav := staffNav(c, "audit")
	v.Nav = &nav
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.Audit(s.shell(c, l.T("audit.title")), v), nil)
}

// auditView reads one page of the audit log for viewer and base (the page's own path). orgID 0 lists every
// organisation; orgs (staff only) fill the organisation filter.
func (s *Server) auditView(c *echo.Context, viewer access.Person, base string, orgID int64, orgs []db.OrgSummary) (views.AuditView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	action := strings.TrimSpace(c.QueryParam("action"))
	if len(action) > 64 || !peopleTextOK(action, 64) {
		action = ""
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	v := views.AuditView{Base: base, Action: action}
	slug := ""
	for _, o := range orgs {
		sel := o.Slug == c.QueryParam("org")
		if sel {
			orgID, slug = o.ID, o.Slug
		}
		v.Orgs = append(v.Orgs, views.AuditOrgOption{Slug: o.Slug, Name: o.Name, Selected: sel})
	}
	for _, a := range auditActions {
		v.Actions = append(v.Actions, views.AuditActionOption{Value: a, Label: auditActionText(l, a), Selected: a == action})
	}
	// The filter's choices are whole actions; any other value (an old link, a typed URL) is a prefix.
	page, err := s.audits.Read(ctx, viewer, audit.Query{OrgID: orgID, Action: action, ActionExact: knownAuditAction(action), Before: before})
	if err != nil {
		return v, notFound(err)
	}
	q := url.Values{}
	if slug != "" {
		q.Set("org", slug)
	}
	if action != "" {
		q.Set("action", action)
	}
	if page.Older != 0 {
		q.Set("before", strconv.FormatInt(page.Older, 10))
		v.OlderHref = base + "?" + q.Encode()
		q.Del("before")
	}
	if before > 0 {
		v.FirstHref = base
		if len(q) > 0 {
			v.FirstHref += "?" + q.Encode()
		}
	}
	for _, e := range page.Entries {
		v.Rows = append(v.Rows, views.AuditRow{
			ID: e.ID, At: l.DateTime(e.At), Actor: e.ActorName, Org: e.OrgName, Action: auditActionText(l, e.Action),
			ActionCode: e.Action, Target: auditTargetText(l, e.Action, e.Target), IP: e.IP,
		})
	}
	return v, nil
}
