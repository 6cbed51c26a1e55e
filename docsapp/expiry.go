package docsapp

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"portier/db"
	"portier/docs"
	"portier/i18n"
	portiermail "portier/mail"
)

// What expires next: warranty ends and custom dates marked as expiries, the licences, certificates,
// domains and contracts kept for an organisation, and the age of stored passwords — per organisation (its
// customers see what is not staff-only) and across all organisations for staff, with a weekly digest by
// mail to whom the organisation chooses.

// PasswordMaxAge is the age at which a stored password shows as due for a change (BSI IT-Grundschutz
// no longer asks for periodic changes of users' own passwords, but service and admin passwords that
// several people knew are what MSPs rotate yearly).
const PasswordMaxAge = 365 * 24 * time.Hour

// DigestEvery is the digest's rhythm; DigestAhead how many days ahead it looks (the expired included).
const (
	DigestEvery = 7 * 24 * time.Hour
	DigestAhead = 30
)

// MaxDigestRecipients bounds the list: the digest is for the few people who renew things.
const MaxDigestRecipients = 10

// Mails words the mails the documentation sends (mailtext.Composer).
type Mails interface {
	ExpiryDigest(ctx context.Context, to string, d ExpiryDigestMail) (portiermail.Message, error)
}

// ExpiryDigestMail is what one organisation's digest says, in its language.
type ExpiryDigestMail struct {
	Lang  string
	Org   *db.Org
	Lines []ExpiryLine
	Path  string // the organisation's overview of the next 30 days, for the button
}

// ExpiryLine is one thing in a digest: its date, the key (or a custom field's label) of its kind, its
// name, and the days from today to it in the digest's time zone (negative: past).
type ExpiryLine struct {
	Date    time.Time
	KindKey string
	Name    string
	Days    int
}

// expiries gathers the scope's dated things, with the date fields (built-in and custom) that count.
func (s *Service) expiries(ctx context.Context, sc db.ExpiryScope, loc *time.Location) ([]db.ExpiryEntry, map[string]string, error) {
	areas, err := s.Areas(ctx)
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

// Expiries is what expires in the viewer's organisation as they may see it (staff-only things for staff
// only), or with no organisation across all of them (MSP staff only). The labels name each entry's source
// by a translation key, or a custom field's label as typed.
func (s *Service) Expiries(ctx context.Context, v *Viewer) ([]db.ExpiryEntry, map[string]string, error) {
	if v.Org == nil && !v.Staff {
		return nil, nil, ErrForbidden
	}
	return s.expiries(ctx, db.ExpiryScope{OrgID: v.orgID(), StaffView: v.Staff}, v.tz())
}

// DaysUntil counts calendar days from today to the date, in the time zone. In whole Unix days, not
// through Sub: a time.Duration spans only 292 years, and a date field takes 0001-01-01 to 9999-12-31.
func DaysUntil(now, date time.Time, loc *time.Location) int {
	day := func(t time.Time) int64 {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	return int(day(date) - day(now))
}

// FilterExpiries keeps the entries of a window: "30" and "90" (days ahead, the expired included, since
// they are the most urgent), "expired", or "all".
func FilterExpiries(in []db.ExpiryEntry, window string, now time.Time, loc *time.Location) []db.ExpiryEntry {
	var out []db.ExpiryEntry
	for _, e := range in {
		d := DaysUntil(now, e.Date, loc)
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

// SortExpiries orders entries by "name", "kind" (by kindLabel), "org" or else date, the date and then the
// name breaking ties.
func SortExpiries(es []db.ExpiryEntry, by string, desc bool, kindLabel func(db.ExpiryEntry) string) {
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

// ExpiryInput is a licence, certificate, domain or contract kept for an organisation.
type ExpiryInput struct {
	Kind      string // one of db.ExpiryKinds
	Name      string
	ExpiresOn string // as typed: YYYY-MM-DD
	StaffOnly bool
}

// AddExpiry keeps a dated thing for the viewer's organisation, audited in the same transaction (staff-only
// when the thing is). MSP staff only. ErrInvalid for a kind there is none of (no form offers it), a
// *FieldInvalidError for a missing name or date.
func (s *Service) AddExpiry(ctx context.Context, v *Viewer, in ExpiryInput) error {
	if !v.Staff || v.Org == nil {
		return ErrForbidden
	}
	e := db.Expiry{OrgID: v.Org.ID, Kind: in.Kind, StaffOnly: in.StaffOnly}
	errs := map[string]string{}
	var ek string
	if e.Name, ek = (docs.Field{Name: "name", Kind: docs.Text, Required: true}).Clean(in.Name); ek != "" {
		errs["name"] = ek
	}
	if e.ExpiresOn, ek = (docs.Field{Name: "expires_on", Kind: docs.Date, Required: true}).Clean(in.ExpiresOn); ek != "" {
		errs["expires_on"] = ek
	}
	known := false
	for _, k := range db.ExpiryKinds {
		known = known || k == e.Kind
	}
	if !known {
		return ErrInvalid
	}
	if len(errs) > 0 {
		return &FieldInvalidError{Fields: errs}
	}
	_, err := s.db.ExpiryCreate(ctx, e, func(tx *sql.Tx, id int64) error {
		a := v.entry("expiry.create", strconv.FormatInt(id, 10)+":"+e.Kind+":"+e.Name)
		a.StaffOnly = e.StaffOnly
		return s.db.Audit(ctx, tx, a)
	})
	return err
}

// DeleteExpiry removes a dated thing of the viewer's organisation, audited in the same transaction. MSP
// staff only; ErrNotFound for one of another organisation.
func (s *Service) DeleteExpiry(ctx context.Context, v *Viewer, id int64) error {
	if !v.Staff || v.Org == nil {
		return ErrForbidden
	}
	return s.db.ExpiryDelete(ctx, v.Org.ID, id, func(tx *sql.Tx, e db.Expiry) error {
		a := v.entry("expiry.delete", strconv.FormatInt(id, 10)+":"+e.Kind+":"+e.Name)
		a.StaffOnly = e.StaffOnly
		return s.db.Audit(ctx, tx, a)
	})
}

// managesOrg: MSP staff and the organisation's managers decide who gets its digest.
func (v *Viewer) managesOrg() bool { return v.Org != nil && (v.Staff || v.Role == "manager") }

// CanManageDigest reports whether the viewer decides who gets the organisation's digest.
func (v *Viewer) CanManageDigest() bool { return v.managesOrg() }

// ExpiryDigest is who gets the organisation's digest, in which language, and when it last went out.
func (s *Service) ExpiryDigest(ctx context.Context, v *Viewer) (db.ExpiryDigest, error) {
	if !v.managesOrg() {
		return db.ExpiryDigest{}, ErrForbidden
	}
	return s.db.ExpiryDigestOf(ctx, v.Org.ID)
}

// SetExpiryDigest stores who gets the organisation's weekly digest (plain addresses with a dot in the
// domain, at most MaxDigestRecipients; none: no digest) and in which language (an unknown one: the
// default), audited in the same transaction. Staff and the organisation's managers only. A
// *FieldInvalidError on "recipients" for an address that is not one, or too many.
func (s *Service) SetExpiryDigest(ctx context.Context, v *Viewer, lang string, recipients []string) error {
	if !v.managesOrg() {
		return ErrForbidden
	}
	dg := db.ExpiryDigest{OrgID: v.Org.ID, Lang: lang}
	if !i18n.Supported(dg.Lang) {
		dg.Lang = i18n.Default
	}
	for _, line := range recipients {
		if !docs.PlainAddress(line) {
			return &FieldInvalidError{Fields: map[string]string{"recipients": "expiry.digest.err_address"}}
		}
		dg.Recipients = append(dg.Recipients, db.NormalizeEmail(line))
	}
	if len(dg.Recipients) > MaxDigestRecipients {
		return &FieldInvalidError{Fields: map[string]string{"recipients": "expiry.digest.err_many"}}
	}
	return s.db.SetExpiryDigest(ctx, dg, func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.entry("expiry.digest", strconv.Itoa(len(dg.Recipients))))
	})
}

// errNoMails: the service was built without a way to word mails.
var errNoMails = errors.New("docsapp: no mails configured")

// SendExpiryDigests sends each organisation's digest that is due (last sent a week ago or never): what
// its customers may see of what expired or expires within 30 days, in the organisation's chosen language,
// through the outbox. An organisation with nothing to report is marked as done without a mail. The claim
// and the mails are one transaction whose conditional update decides (db.ClaimExpiryDigest), so parallel
// runs send each digest once. It returns how many mails were queued; the scheduler
// (digest_scheduler.go) calls it every hour.
func (s *Service) SendExpiryDigests(ctx context.Context) (int, error) {
	if s.mails == nil {
		return 0, errNoMails
	}
	now := s.now()
	due, err := s.db.DueExpiryDigests(ctx, now.Add(-DigestEvery))
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, dg := range due {
		org, err := s.db.OrgByID(ctx, dg.OrgID)
		if err != nil {
			return queued, err
		}
		loc := s.labels.For(dg.Lang, "").TZ
		entries, labels, err := s.expiries(ctx, db.ExpiryScope{OrgID: org.ID}, loc)
		if err != nil {
			return queued, err
		}
		entries = FilterExpiries(entries, strconv.Itoa(DigestAhead), now, loc)
		SortExpiries(entries, "date", false, nil)
		d := ExpiryDigestMail{Lang: dg.Lang, Org: org, Path: "/o/" + org.Slug + "/expiry?window=" + strconv.Itoa(DigestAhead)}
		for _, e := range entries {
			d.Lines = append(d.Lines, ExpiryLine{Date: e.Date, KindKey: labels[e.Source], Name: e.Name, Days: DaysUntil(now, e.Date, loc)})
		}
		n := 0
		_, err = s.db.ClaimExpiryDigest(ctx, dg, func(tx *sql.Tx) error {
			if len(d.Lines) == 0 {
				return nil
			}
			to, err := db.ExpiryDigestReach(ctx, tx, org.ID, dg.Recipients)
			if err != nil {
				return err
			}
			n = len(to)
			for _, to := range to {
				m, err := s.mails.ExpiryDigest(ctx, to, d)
				if err != nil {
					return err
				}
				if err := db.EnqueueMail(ctx, tx, s.sealer, now, m.To, m.Kind, m.Subject, m.Text, m.HTML); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return queued, err
		}
		queued += n
	}
	if queued > 0 && s.wake != nil {
		s.wake()
	}
	return queued, nil
}
