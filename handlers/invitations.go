package handlers

import (
	"context"
	"database/sql"
	"time"

	"portier/auth"
	"portier/db"
)

// InviteRequest asks to invite a person to an organisation (OrgID != 0, Role manager/viewer) or to the
// MSP's staff (OrgID 0, Role admin/technician).
type InviteRequest struct {
	Email, Name, Lang string
	OrgID             int64
	Role              string
	Actor             db.AuditEntry // who invites (ActorID 0: the command line), with IP and user agent
}

// inviteTTL is the invitation lifetime: the administrators' setting, else the configured default.
func (s *Server) inviteTTL(ctx context.Context) time.Duration {
	if v, err := s.db.Setting(ctx, "invite.ttl_days", ""); err == nil && v != "" {
		if d, err := time.ParseDuration(v + "h"); err == nil && d > 0 {
			return d * 24
		}
	}
	return s.cfg.InviteTTL
}

// Invite creates (or renews) an invitation, queues its mail in the invitee's language, audits it and
// returns the link. The command line and the web pages both use it.
func (s *Server) Invite(ctx context.Context, req InviteRequest) (string, *db.Invitation, error) {
	raw, hash := auth.NewToken()
	inv, err := s.db.CreateInvitation(ctx, db.NewInvitation{
		Email: req.Email, Name: req.Name, Lang: req.Lang, OrgID: req.OrgID, Role: req.Role,
		InvitedBy: req.Actor.ActorID, TokenHash: hash, TTL: s.inviteTTL(ctx),
	})
	if err != nil {
		return "", nil, err
	}
	link, err := s.sendInvitation(ctx, inv, raw, req.Actor, "invite.create")
	return link, inv, err
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
	m, l := s.newEmail(inv.Lang, inv.Name, "mail.invite.subject", "inviter", inviter, "msp", s.msp.Load().Name)
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
