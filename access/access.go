// Package access decides who may act on whom: one function, Decide, for every action on people,
// memberships, invitations and organisations, called by the web handlers and the command line alike.
// It is pure: the caller loads the facts (who the actor and the target are, which organisations they
// belong to) and passes them in, so a rule here cannot be skipped by a caller that forgot a query.
package access

import "errors"

// Action is what the actor wants to do.
type Action int

// Actions on a membership (they change one organisation's list of people) come first, actions on a
// person (they change the account, which every organisation of the person shares) after them.
const (
	Invite Action = iota + 1
	RevokeInvitation
	ResendInvitation
	ChangeRole
	RemoveMembership
	ResetSecondFactor
	SetDisabled // disabling and enabling alike
	EndSessions
	ChangeEmail
	AcceptInvitation // the actor is the invitee
	CreateOrg
)

var actionNames = map[Action]string{
	Invite: "invite", RevokeInvitation: "revoke invitation", ResendInvitation: "resend invitation",
	ChangeRole: "change role", RemoveMembership: "remove membership", ResetSecondFactor: "reset second factor",
	SetDisabled: "disable/enable", EndSessions: "end sessions", ChangeEmail: "change e-mail",
	AcceptInvitation: "accept invitation", CreateOrg: "create organisation",
}

func (a Action) String() string { return actionNames[a] }

// onPerson reports whether the action changes the person's account rather than one membership.
func (a Action) onPerson() bool {
	return a == ResetSecondFactor || a == SetDisabled || a == EndSessions || a == ChangeEmail
}

// Staff roles and organisation roles, as stored.
const (
	Admin      = "admin"
	Technician = "technician"
	Manager    = "manager"
	Viewer     = "viewer"
)

// Person is what the policy needs to know about an actor or a target.
type Person struct {
	ID        int64
	StaffRole string           // Admin, Technician or "" for customers
	Orgs      map[int64]string // accepted memberships: organisation id → Manager or Viewer
	// Operator is whoever runs the command line on the server: they hold the data folder and the key
	// already, so they act with an MSP administrator's authority.
	Operator bool
}

// Operator is the actor of the command line.
func Operator() Person { return Person{Operator: true} }

func (p Person) isStaff() bool { return p.StaffRole != "" }

// ForMSP reports whether p acts for the MSP — staff, or the operator of the command line — and so sees
// every organisation and its people: an address's owner may be named to them, and they read a customer's
// log with its staff-only entries.
func (p Person) ForMSP() bool { return p.Operator || p.isStaff() }

func (p Person) isAdmin() bool { return p.Operator || p.StaffRole == Admin }

// Refusals. Handlers map them to answers: ErrNotFound to 404 (the same as something that does not exist),
// the others to a message on the form.
var (
	ErrNotFound        = errors.New("access: not found")
	ErrSelf            = errors.New("access: not on oneself")
	ErrStaffAddress    = errors.New("access: the address belongs to MSP staff")
	ErrCustomerAddress = errors.New("access: the address belongs to a customer")
	ErrOtherOrgs       = errors.New("access: the person belongs to organisations outside the actor's authority")
)

// ManagesOrg reports whether the actor may manage the people of the organisation: MSP staff (and the
// operator) everywhere, a customer where they are a manager.
func ManagesOrg(actor Person, orgID int64) bool {
	return actor.ForMSP() || (orgID != 0 && actor.Orgs[orgID] == Manager)
}

// ReadsAudit reports whether viewer may read the audit log of orgID: an organisation's log is for those who
// manage its people (ManagesOrg); the log of every organisation at once (orgID 0) is for MSP administrators
// (and the operator), not technicians.
func ReadsAudit(viewer Person, orgID int64) bool {
	if orgID == 0 {
		return viewer.isAdmin()
	}
	return ManagesOrg(viewer, orgID)
}

// Decide answers whether actor may do action in the place orgID (an organisation, or 0 for the MSP's
// staff) to target (nil when an invitation goes to an address nobody has yet). nil means yes.
//
// The rules:
//   - An invitation is not a membership: it may be sent, re-sent and revoked by whoever manages the
//     place, and it becomes a membership only when the invitee accepts it (AcceptInvitation, whose actor is
//     the invitee). Staff never become customer members, customers never become staff. An open
//     invitation stands on its sender's word: once Decide no longer lets the sender invite to its place,
//     accounts withdraws it (accounts.withdrawUnbacked).
//   - A customer's manager must not learn whether an address belongs to staff or to another organisation,
//     so inviting such an address is allowed to them (it grants nothing; accepting is what is refused);
//     staff, who know anyway, are told.
//   - An action on a person (second factors, disabling, sessions, e-mail) is allowed to a customer's
//     manager only when they manage every organisation the person belongs to; otherwise only MSP staff
//     may act. A technician does not act on an administrator's account.
//   - Nobody uses these actions on themselves: their own pages (with a fresh password) are for that.
//   - A membership of an organisation is the organisation's business, not the account's: its managers
//     (and staff) remove any customer member of it, whatever other organisations the person belongs to.
//     The staff have no membership to remove: they leave by being disabled, where the last administrator
//     is kept.
func Decide(actor Person, action Action, orgID int64, target *Person) error {
	switch action {
	case AcceptInvitation:
		if orgID != 0 && actor.isStaff() {
			return ErrStaffAddress
		}
		if orgID == 0 && len(actor.Orgs) > 0 {
			return ErrCustomerAddress
		}
		return nil
	case CreateOrg:
		if actor.ForMSP() {
			return nil
		}
		return ErrNotFound
	}
	if action < Invite || action > ChangeEmail {
		return ErrNotFound
	}
	if !ManagesOrg(actor, orgID) {
		return ErrNotFound
	}
	if orgID == 0 && !actor.isAdmin() && !(action.onPerson() && actor.isStaff()) {
		return ErrNotFound // the staff's own people are the administrators' business
	}
	if orgID == 0 && action == RemoveMembership {
		return ErrNotFound // disabling is how staff leave: accounts.SetDisabled keeps the last administrator
	}
	if target != nil && target.ID == actor.ID && !actor.Operator {
		return ErrSelf
	}
	if action.onPerson() {
		return decidePerson(actor, action, orgID, target)
	}
	return decideMembership(actor, action, orgID, target)
}

func decideMembership(actor Person, action Action, orgID int64, target *Person) error {
	switch action {
	case Invite:
		if target == nil {
			return nil
		}
		if orgID == 0 && len(target.Orgs) > 0 {
			return ErrCustomerAddress
		}
		if orgID != 0 && target.isStaff() && actor.ForMSP() {
			return ErrStaffAddress
		}
		return nil
	case RevokeInvitation, ResendInvitation:
		// The invitation belongs to the place; the caller checked that. Neither touches the person.
		return nil
	case ChangeRole, RemoveMembership:
		if target == nil {
			return ErrNotFound
		}
		if orgID == 0 { // only ChangeRole gets here (Decide refused RemoveMembership)
			if !target.isStaff() {
				return ErrNotFound
			}
			return nil
		}
		if target.isStaff() || target.Orgs[orgID] == "" {
			return ErrNotFound
		}
		return nil
	}
	return ErrNotFound
}

func decidePerson(actor Person, action Action, orgID int64, target *Person) error {
	if target == nil {
		return ErrNotFound
	}
	if orgID != 0 && (target.isStaff() || target.Orgs[orgID] == "") {
		// From an organisation's page only its (accepted) members can be reached; staff are managed on the
		// staff pages.
		return ErrNotFound
	}
	if target.isStaff() {
		switch {
		case actor.isAdmin():
			return nil
		case actor.StaffRole == Technician && target.StaffRole == Technician &&
			(action == ResetSecondFactor || action == EndSessions):
			return nil
		}
		return ErrNotFound
	}
	if actor.ForMSP() {
		return nil
	}
	for org := range target.Orgs {
		if actor.Orgs[org] != Manager {
			return ErrOtherOrgs
		}
	}
	return nil
}
