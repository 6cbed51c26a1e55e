package handlers

import (
	"errors"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/accounts"
	"portier/db"
)

// Every action on people, memberships and invitations asks access.Decide through accounts; these helpers
// name the signed-in person and turn the policy's refusals into answers.

// actor is the signed-in person as the policy sees them.
func (s *Server) actor(c *echo.Context) (access.Person, error) {
	return s.accounts.Person(c.Request().Context(), currentUser(c))
}

// orgActor is the signed-in person with their role in the route's organisation only (orgAccess loaded it):
// enough for access.ManagesOrg, not for access.Decide, which needs all their memberships.
func orgActor(c *echo.Context) (access.Person, int64) {
	u := currentUser(c)
	o, role := currentOrg(c)
	return access.Person{ID: u.ID, StaffRole: u.StaffRole, Orgs: map[int64]string{o.ID: role}}, o.ID
}

// decide asks the policy whether the signed-in person may do action in orgID (0: the staff) to target.
// A refusal that must look like a missing page comes back as db.ErrNotFound (404 through the error
// handler); the others (access.ErrSelf, access.ErrOtherOrgs, ...) are for the caller to show.
func (s *Server) decide(c *echo.Context, action access.Action, orgID int64, target *db.User) error {
	return notFound(s.accounts.Decide(c.Request().Context(), currentUser(c), action, orgID, target))
}

// notFound turns the policy's "not found" into the database's, which the error handler answers with 404.
func notFound(err error) error {
	if errors.Is(err, access.ErrNotFound) {
		return db.ErrNotFound
	}
	return err
}

// refusalKey is the message of a refusal the person may see, "" for any other error.
func refusalKey(err error) string {
	switch {
	case errors.Is(err, access.ErrSelf):
		return "people.error.self"
	case errors.Is(err, access.ErrOtherOrgs):
		return "people.error.other_orgs"
	case errors.Is(err, access.ErrStaffAddress):
		return "people.error.staff_address"
	case errors.Is(err, access.ErrCustomerAddress):
		return "staff.error.customer_address"
	case errors.Is(err, accounts.ErrAccountDisabled):
		return "people.error.disabled_account"
	}
	return ""
}
