package handlers

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"portier/access"
	"portier/auth"
	"portier/db"
)

// InviteRequest asks to invite a person to an organisation (OrgID != 0, Role manager/viewer) or to the
// MSP's staff (OrgID 0, Role admin/technician).
type InviteRequest struct {
	Email, Name, Lang string
	OrgID             int64
	Role              string
	By                access.Person // who invites, as the policy sees them (access.Operator() for the command line)
	Actor             db.AuditEntry // who invites, for the audit log (ActorID 0: the command line), with IP and user agent
	// NoMail creates the invitation without a mail: for the first administrator, whose browser goes on to
	// the invitation page at once (a mail inviting them to their own portal would only confuse).
	NoMail bool
}

// InviteResult says what Invite did.
type InviteResult int

const (
	Invited       InviteResult = iota // a new invitation (it replaces an open one of another role)
	Resent                            // the open invitation of the same role, with a new link
	AlreadyMember                     // an active member (or staff member) already: nothing was sent
)

// inviteTTL is the invitation lifetime: the administrators' setting, else the configured default.
func (s *Server) inviteTTL(ctx context.Context) time.Duration {
	if v, err := s.db.Setting(ctx, "invite.ttl_days", ""); err == nil && v != "" {
		if d, err := time.ParseDuration(v + "h"); err == nil && d > 0 {
			return d * 24
		}
	}
	return s.cfg.InviteTTL
}

// Invite asks the policy (access.Invite), then invites, or re-sends the person's open invitation of the
// same role (a second invitation never piles up, and the older link dies either way), or does nothing for
// someone who already has what is offered. It queues the mail in the invitee's language, audits it and
// returns the link. The web pages, the console's setup link and the command line all come here.
//
// A customer's manager gets the same result for an address of MSP staff or of another organisation as for
// an unknown one (access.Decide allows it; accepting is what the policy refuses), so the answer tells them
// nothing about who the address belongs to.
func (s *Server) Invite(ctx context.Context, req InviteRequest) (string, *db.Invitation, InviteResult, error) {
	existing, err := s.db.UserByEmail(ctx, req.Email)
	if errors.Is(err, db.ErrNotFound) {
		existing, err = nil, nil
	}
	if err != nil {
		return "", nil, 0, err
	}
	var target *access.Person
	if existing != nil {
		p, err := s.accessPerson(ctx, existing)
		if err != nil {
			return "", nil, 0, err
		}
		target = &p
	}
	if err := access.Decide(req.By, access.Invite, req.OrgID, target); err != nil {
		return "", nil, 0, err
	}
	if existing != nil {
		inv, err := s.db.OpenInvitation(ctx, existing.ID, req.OrgID)
		switch {
		case err == nil && inv.Role == req.Role:
			link, inv, err := s.ReissueInvitation(ctx, inv.ID, req.Actor)
			return link, inv, Resent, err
		case err == nil:
			// Another role: a new invitation replaces the open one (CreateInvitation revokes it).
		case !errors.Is(err, db.ErrNotFound):
			return "", nil, 0, err
		case existing.PasswordHash != "":
			has := existing.StaffRole != ""
			if req.OrgID != 0 {
				has = target.Orgs[req.OrgID] != ""
			}
			if has {
				return "", nil, AlreadyMember, nil
			}
		}
	}
	raw, hash := auth.NewToken()
	inv, err := s.db.CreateInvitation(ctx, db.NewInvitation{
		Email: req.Email, Name: req.Name, Lang: req.Lang, OrgID: req.OrgID, Role: req.Role,
		InvitedBy: req.Actor.ActorID, TokenHash: hash, TTL: s.inviteTTL(ctx),
	})
	if err != nil {
		return "", nil, 0, err
	}
	if req.NoMail {
		link, err := s.recordInvitation(ctx, inv, raw, req.Actor)
		return link, inv, Invited, err
	}
	link, err := s.sendInvitation(ctx, inv, raw, req.Actor, "invite.create")
	return link, inv, Invited, err
}

// ReissueInvitation re-sends an invitation with a new link; the old link dies.
func (s *Server) ReissueInvitation(ctx context.Context, id int64, actor db.AuditEntry) (string, *db.Invitation, error) {
	raw, hash := auth.NewToken()
	inv, err := s.db.ReissueInvitation(ctx, id, hash, s.inviteTTL(ctx))
	if err != nil {
		return "", nil, err
	}
	link, err := s.sendInvitation(ctx, inv, raw, actor, "invite.resend")
	return link, inv, err
}

func (s *Server) sendInvitation(ctx context.Context, inv *db.Invitation, raw string, actor db.AuditEntry, action string) (string, error) {
	link := s.link("/invite/" + raw)
	inviter := actor.ActorName
	if inviter == "" {
		inviter = s.msp.Load().Name
	}
	greet := inv.PersonName
	if greet == "" {
		greet = inv.Name
	}
	m, l := s.newEmail(inv.Lang, greet, "mail.invite.subject", "inviter", inviter, "msp", s.msp.Load().Name)
	place := inv.OrgName
	if inv.OrgID == 0 {
		place = s.msp.Load().Name
	}
	m.Paragraphs = []string{
		l.T("mail.invite.body", "inviter", inviter, "email", inv.Email, "org", place, "role", l.T("role."+inv.Role), "msp", s.msp.Load().Name),
		l.T("mail.invite.steps"),
	}
	m.ButtonText = l.T("mail.invite.button")
	m.ButtonURL = link
	m.After = []string{
		l.T("mail.invite.expiry", "date", l.DateTime(inv.ExpiresAt)),
		l.T("mail.invite.lost", "url", s.link("/forgot")),
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.enqueue(ctx, tx, inv.Email, m); err != nil {
			return err
		}
		e := actor
		e.OrgID, e.Action, e.Target = inv.OrgID, action, inv.Email+" ("+inv.Role+")"
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	s.wakeMailer()
	return link, nil
}
