// Package accounts is the application layer for people: invitations and who may send them, organisations,
// and the checks every name and address goes through. The web handlers and the command line call the same
// methods, so a rule here holds for both; the methods own their transactions and return typed results and a
// few error kinds (the access package's refusals, Invalid, ErrRoleDiffers, ErrSlugTaken).
package accounts

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"portier/access"
	"portier/audit"
	"portier/auth"
	"portier/db"
	"portier/mail"
)

// Mails writes the mails accounts sends and builds the links in them (mailtext.Composer).
type Mails interface {
	Link(path string) string
	Invitation(ctx context.Context, inv *db.Invitation, link, inviter string) (mail.Message, error)
	PasswordReset(ctx context.Context, u *db.User, at time.Time) (mail.Message, error)
	ResetLink(ctx context.Context, u *db.User, link string, ttl time.Duration) (mail.Message, error)
	Confirmation(ctx context.Context, u *db.User, email, link string, ttl time.Duration) (mail.Message, error)
	EmailChangeNotice(ctx context.Context, u *db.User, addr string) (mail.Message, error)
	SecondFactorsReset(ctx context.Context, u *db.User, actorName string) (mail.Message, error)
}

// Config holds what the deployment decides.
type Config struct {
	Now        func() time.Time
	InviteTTL  time.Duration // when the administrators have not set one; default 7 days
	ResetTTL   time.Duration // default 60 minutes
	ConfirmTTL time.Duration // default 24 hours
	// Wake nudges the mail worker after a transaction that queued mail committed; nil when no worker runs
	// in this process (the command line: the running portal's worker sends what is queued).
	Wake   func()
	Logger *slog.Logger
}

// Accounts is the people's side of the application. It is safe for concurrent use.
type Accounts struct {
	db     *db.DB
	sealer *db.Sealer
	hasher *auth.Hasher
	mails  Mails
	now    func() time.Time
	ttl    time.Duration
	cfg    Config
	wake   func()
	audits *audit.Log
}

// New returns the accounts service.
func New(d *db.DB, sealer *db.Sealer, hasher *auth.Hasher, mails Mails, cfg Config) *Accounts {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InviteTTL == 0 {
		cfg.InviteTTL = 7 * 24 * time.Hour
	}
	if cfg.ResetTTL == 0 {
		cfg.ResetTTL = time.Hour
	}
	if cfg.ConfirmTTL == 0 {
		cfg.ConfirmTTL = 24 * time.Hour
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Accounts{db: d, sealer: sealer, hasher: hasher, mails: mails, now: cfg.Now, ttl: cfg.InviteTTL, cfg: cfg, wake: cfg.Wake, audits: audit.New(d, cfg.Logger)}
}

// Errors besides the access package's refusals.
var (
	// ErrRoleDiffers: the address belongs to active staff of another role; roles of active staff do not
	// change through an invitation.
	ErrRoleDiffers = errors.New("accounts: the person is staff with another role")
	// ErrSlugTaken: another organisation has the slug.
	ErrSlugTaken = errors.New("accounts: the slug is taken")
	// ErrLastAdmin: the last enabled administrator stays enabled.
	ErrLastAdmin = errors.New("accounts: the last administrator")
	// ErrAccountDisabled: staff (and the command line) inviting a disabled account's address are told so;
	// a customer's manager gets the answer any address gets, and the disabled account no mail (send).
	ErrAccountDisabled = errors.New("accounts: the address belongs to a disabled account")
)

// Invalid is input that breaks a rule: each field with the translation key of what is wrong with it.
type Invalid map[string]string

func (v Invalid) Error() string {
	fields := slices.Sorted(maps.Keys(v))
	for i, f := range fields {
		fields[i] = f + ": " + v[f]
	}
	return "accounts: invalid " + strings.Join(fields, ", ")
}

// Person is what the access policy knows about u: their staff role and accepted memberships.
func (a *Accounts) Person(ctx context.Context, u *db.User) (access.Person, error) {
	p := access.Person{ID: u.ID, StaffRole: u.StaffRole, Orgs: map[int64]string{}}
	ms, err := a.db.Memberships(ctx, u.ID)
	if err != nil {
		return p, err
	}
	for _, m := range ms {
		p.Orgs[m.Org.ID] = m.Role
	}
	return p, nil
}

// Decide asks the policy whether actor may do action in orgID (0: the staff) to target (nil: nobody yet),
// after loading what the policy needs to know about both.
func (a *Accounts) Decide(ctx context.Context, actor *db.User, action access.Action, orgID int64, target *db.User) error {
	ap, err := a.Person(ctx, actor)
	if err != nil {
		return err
	}
	var tp *access.Person
	if target != nil {
		p, err := a.Person(ctx, target)
		if err != nil {
			return err
		}
		tp = &p
	}
	return access.Decide(ap, action, orgID, tp)
}

// queue renders nothing itself: it adds a composed message to the outbox inside tx.
func (a *Accounts) queue(ctx context.Context, tx *sql.Tx, m mail.Message) error {
	return db.EnqueueMail(ctx, tx, a.sealer, a.now(), m.To, m.Kind, m.Subject, m.Text, m.HTML)
}

// mailOut queues m and its audit entry in one transaction and wakes the worker once it committed.
func (a *Accounts) mailOut(ctx context.Context, m mail.Message, e db.AuditEntry) error {
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := a.queue(ctx, tx, m); err != nil {
			return err
		}
		if e.Action == "" {
			return nil
		}
		return a.db.Audit(ctx, tx, e)
	})
	if err == nil {
		a.wake()
	}
	return err
}

// domainOnly is how an address nobody has (or that must not be recorded) appears in the audit log: by its
// domain, so the log collects neither other people's addresses nor passwords typed into the address field.
func domainOnly(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return "*" + email[at:]
	}
	return ""
}
