package access

import (
	"errors"
	"testing"
)

const orgA, orgB = 1, 2

// actions in the order of the expectation strings below.
var actions = []Action{Invite, RevokeInvitation, ResendInvitation, ChangeRole, RemoveMembership,
	ResetSecondFactor, SetDisabled, EndSessions, ChangeEmail}

// Expectation letters: y allowed, n ErrNotFound, s ErrSelf, o ErrOtherOrgs, a ErrStaffAddress,
// c ErrCustomerAddress.
var want = map[byte]error{'y': nil, 'n': ErrNotFound, 's': ErrSelf, 'o': ErrOtherOrgs, 'a': ErrStaffAddress, 'c': ErrCustomerAddress}

var actors = map[string]Person{
	"msp admin":        {ID: 1, StaffRole: Admin},
	"msp technician":   {ID: 1, StaffRole: Technician},
	"customer manager": {ID: 1, Orgs: map[int64]string{orgA: Manager}},
	"customer viewer":  {ID: 1, Orgs: map[int64]string{orgA: Viewer}},
	// A manager, but of another organisation: no membership in the place acted on.
	"no membership": {ID: 1, Orgs: map[int64]string{orgB: Manager}},
	"operator":      Operator(),
}

// targets builds the target for an actor; "self" is the actor.
func target(kind string, actor Person) *Person {
	switch kind {
	case "in actor's org only":
		return &Person{ID: 2, Orgs: map[int64]string{orgA: Viewer}}
	case "in actor's org and another":
		return &Person{ID: 2, Orgs: map[int64]string{orgA: Viewer, orgB: Manager}}
	case "only in another org":
		return &Person{ID: 2, Orgs: map[int64]string{orgB: Manager}}
	case "staff technician":
		return &Person{ID: 2, StaffRole: Technician}
	case "staff admin":
		return &Person{ID: 2, StaffRole: Admin}
	case "self":
		return &actor
	case "only invited, not accepted":
		return &Person{ID: 2}
	case "new address":
		return nil
	}
	panic(kind)
}

func run(t *testing.T, orgID int64, table []struct{ actor, target, want string }) {
	t.Helper()
	for _, row := range table {
		actor := actors[row.actor]
		if len(row.want) != len(actions) {
			t.Fatalf("%s × %s: want has %d letters", row.actor, row.target, len(row.want))
		}
		for i, a := range actions {
			got := Decide(actor, a, orgID, target(row.target, actor))
			if exp := want[row.want[i]]; !errors.Is(got, exp) || (exp == nil) != (got == nil) {
				t.Errorf("org %d, %s × %s × %s: got %v, want %v", orgID, row.actor, row.target, a, got, exp)
			}
		}
	}
}

// TestDecideInAnOrganisation: the people page of organisation A (and the command line's invite --org).
func TestDecideInAnOrganisation(t *testing.T) {
	//                                                        inv rev res rol rem mfa dis ses mail
	run(t, orgA, []struct{ actor, target, want string }{
		{"msp admin", "in actor's org only", "yyyyyyyyy"},
		{"msp admin", "in actor's org and another", "yyyyyyyyy"},
		{"msp admin", "only in another org", "yyynnnnnn"},
		{"msp admin", "staff technician", "ayynnnnnn"},
		{"msp admin", "self", "sssssssss"},
		{"msp admin", "only invited, not accepted", "yyynnnnnn"},
		{"msp admin", "new address", "yyynnnnnn"},

		{"msp technician", "in actor's org only", "yyyyyyyyy"},
		{"msp technician", "in actor's org and another", "yyyyyyyyy"},
		{"msp technician", "only in another org", "yyynnnnnn"},
		{"msp technician", "staff technician", "ayynnnnnn"},
		{"msp technician", "self", "sssssssss"},
		{"msp technician", "only invited, not accepted", "yyynnnnnn"},

		{"customer manager", "in actor's org only", "yyyyyyyyy"},
		// Membership actions (the role, removal) concern A alone, whatever else the person belongs to; the
		// account is shared with B, which A does not manage.
		{"customer manager", "in actor's org and another", "yyyyyoooo"},
		{"customer manager", "only in another org", "yyynnnnnn"},
		// The same answers as for another organisation's person: the manager learns nothing. The
		// invitation grants nothing (TestAcceptInvitation).
		{"customer manager", "staff technician", "yyynnnnnn"},
		{"customer manager", "staff admin", "yyynnnnnn"},
		{"customer manager", "self", "sssssssss"},
		{"customer manager", "only invited, not accepted", "yyynnnnnn"},
		{"customer manager", "new address", "yyynnnnnn"},

		{"customer viewer", "in actor's org only", "nnnnnnnnn"},
		{"customer viewer", "in actor's org and another", "nnnnnnnnn"},
		{"customer viewer", "only in another org", "nnnnnnnnn"},
		{"customer viewer", "staff technician", "nnnnnnnnn"},
		{"customer viewer", "self", "nnnnnnnnn"},
		{"customer viewer", "only invited, not accepted", "nnnnnnnnn"},

		{"no membership", "in actor's org only", "nnnnnnnnn"},
		{"no membership", "in actor's org and another", "nnnnnnnnn"},
		{"no membership", "only in another org", "nnnnnnnnn"},
		{"no membership", "staff technician", "nnnnnnnnn"},
		{"no membership", "self", "nnnnnnnnn"},
		{"no membership", "only invited, not accepted", "nnnnnnnnn"},

		{"operator", "in actor's org and another", "yyyyyyyyy"},
		{"operator", "staff admin", "ayynnnnnn"},
		{"operator", "new address", "yyynnnnnn"},
	})
}

// TestDecideForTheStaff: the staff's people page and second-factor reset (place 0), and admin create.
func TestDecideForTheStaff(t *testing.T) {
	//                                                        inv rev res rol rem mfa dis ses mail
	run(t, 0, []struct{ actor, target, want string }{
		// Nobody's staff membership is removed: staff leave by being disabled (the last administrator stays).
		{"msp admin", "staff technician", "yyyynyyyy"},
		{"msp admin", "staff admin", "yyyynyyyy"},
		{"msp admin", "in actor's org only", "cyynnyyyy"},
		{"msp admin", "in actor's org and another", "cyynnyyyy"},
		{"msp admin", "self", "ssssnssss"},
		// Staff act on any customer's account from the staff pages, one without memberships included.
		{"msp admin", "only invited, not accepted", "yyynnyyyy"},
		{"msp admin", "new address", "yyynnnnnn"},

		// A technician resets and signs out technicians, never an administrator.
		{"msp technician", "staff technician", "nnnnnynyn"},
		{"msp technician", "staff admin", "nnnnnnnnn"},
		{"msp technician", "in actor's org only", "nnnnnyyyy"},
		{"msp technician", "in actor's org and another", "nnnnnyyyy"},
		{"msp technician", "self", "nnnnnssss"},
		{"msp technician", "only invited, not accepted", "nnnnnyyyy"},

		{"customer manager", "in actor's org only", "nnnnnnnnn"},
		{"customer manager", "staff technician", "nnnnnnnnn"},
		{"customer manager", "self", "nnnnnnnnn"},
		{"customer viewer", "in actor's org only", "nnnnnnnnn"},
		{"no membership", "new address", "nnnnnnnnn"},

		{"operator", "staff admin", "yyyynyyyy"},
		{"operator", "in actor's org only", "cyynnyyyy"},
		{"operator", "new address", "yyynnnnnn"},
	})
}

// TestAcceptInvitation: the invitee is the actor. Staff never become customer members, customers never
// staff, whoever invited them.
func TestAcceptInvitation(t *testing.T) {
	for _, c := range []struct {
		name    string
		invitee Person
		orgID   int64
		want    error
	}{
		{"new person to an organisation", Person{ID: 2}, orgA, nil},
		{"new person to the staff", Person{ID: 2}, 0, nil},
		{"member of another organisation", Person{ID: 2, Orgs: map[int64]string{orgB: Manager}}, orgA, nil},
		{"staff to an organisation", Person{ID: 2, StaffRole: Technician}, orgA, ErrStaffAddress},
		{"customer to the staff", Person{ID: 2, Orgs: map[int64]string{orgB: Viewer}}, 0, ErrCustomerAddress},
		{"staff to the staff (a new role)", Person{ID: 2, StaffRole: Technician}, 0, nil},
	} {
		if got := Decide(c.invitee, AcceptInvitation, c.orgID, &c.invitee); !errors.Is(got, c.want) || (c.want == nil) != (got == nil) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCreateOrg(t *testing.T) {
	for name, actor := range actors {
		got := Decide(actor, CreateOrg, 0, nil)
		allowed := actor.Operator || actor.StaffRole != ""
		if (got == nil) != allowed {
			t.Errorf("%s: got %v", name, got)
		}
	}
}

func TestManagesOrg(t *testing.T) {
	if !ManagesOrg(actors["customer manager"], orgA) || ManagesOrg(actors["customer manager"], orgB) ||
		ManagesOrg(actors["customer viewer"], orgA) || ManagesOrg(actors["customer manager"], 0) ||
		!ManagesOrg(actors["msp technician"], orgB) || !ManagesOrg(Operator(), 0) {
		t.Error("ManagesOrg")
	}
}
