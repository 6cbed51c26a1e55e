package accounts

import (
	"context"
	"errors"
	"strings"

	"portier/access"
	"portier/db"
)

// OrgSlug is the slug an organisation called name gets: the one given (lower-cased), else one derived from
// the name.
func OrgSlug(name, given string) string {
	if s := strings.ToLower(strings.TrimSpace(given)); s != "" {
		return s
	}
	return db.Slugify(strings.TrimSpace(name))
}

// CreateOrg creates a customer organisation (access.CreateOrg) and audits it. The slug is derived from
// the name unless one is given. Invalid names "name" or "slug"; ErrSlugTaken when another organisation has
// the slug.
func (a *Accounts) CreateOrg(ctx context.Context, by access.Person, name, slug string, actor db.AuditEntry) (*db.Org, error) {
	if err := access.Decide(by, access.CreateOrg, 0, nil); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	bad := Invalid{}
	switch NameProblem(name) {
	case "":
	case "setpw.name.required":
		bad["name"] = "staff.error.org_name_required"
	default:
		bad["name"] = "staff.error.org_name_invalid"
	}
	// A slug derived from a name that is wrong anyway is not worth a second message.
	s := OrgSlug(name, slug)
	if (bad["name"] == "" || strings.TrimSpace(slug) != "") && !db.ValidSlug(s) {
		bad["slug"] = "staff.error.slug_invalid"
	}
	if len(bad) > 0 {
		return nil, bad
	}
	o, err := a.db.CreateOrg(ctx, name, s)
	if errors.Is(err, db.ErrConflict) {
		return nil, ErrSlugTaken
	}
	if err != nil {
		return nil, err
	}
	actor.OrgID, actor.Action, actor.Target = o.ID, "org.create", o.Name+" ("+o.Slug+")"
	a.audits.Record(ctx, actor)
	return o, nil
}
