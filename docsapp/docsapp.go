// Package docsapp is the application layer of an organisation's documentation: the five areas (defined
// as data in package docs), their secrets, history, CSV import and export, search and the printable
// handbook. It owns the rules — every read scoped by organisation and viewer, staff-only items invisible to
// customers, who may edit what, secrets opened only with an audit entry — and the transactions that put a
// change and its audit entry together. The web handlers parse a request, call one of its methods and
// render the typed result; only package db holds SQL.
//
// It is a package of its own rather than part of docs because docs is pure data (fields, kinds,
// validation) that the bench generator and the fuzz tests use without a database; this package needs one.
// (It is not called "documentation": the go command ignores every file of a package by that name.)
package docsapp

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"portier/admit"
	"portier/db"
	"portier/docs"
	"portier/i18n"
)

// Service is the documentation of every organisation. It is safe for concurrent use.
type Service struct {
	db     *db.DB
	sealer *db.Sealer
	now    func() time.Time
	labels *i18n.Bundle // the English and German column names an import accepts
	log    *slog.Logger
	frags  *fragCache // the one cache (fragments.go)
	mails  Mails      // the words of the expiry digest
	wake   func()     // nudges the mail worker after a transaction that queued mail committed; may be nil
}

// New builds the service. now is the clock of undo windows, one-time codes and digests; log receives what
// must not reach a page (a secret that no longer opens, an audit entry that could not be written); mails
// words the expiry digest and wake nudges the mail worker (nil when none runs).
func New(d *db.DB, sealer *db.Sealer, now func() time.Time, labels *i18n.Bundle, log *slog.Logger, mails Mails, wake func()) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, sealer: sealer, now: now, labels: labels, log: log, frags: newFragCache(maxFragmentBytes), mails: mails, wake: wake}
}

// Viewer is who asks: the person, the organisation the request is about and their role in it, the
// language fields are named in (audit targets, export headers), and where the request came from (audit).
type Viewer struct {
	ID        int64
	Name      string
	Staff     bool    // MSP staff: every organisation, staff-only items, editing, history, import
	Admin     bool    // an MSP administrator: custom fields
	Org       *db.Org // the organisation of the route; every read and write is scoped to it
	Role      string  // the customer role in Org ("manager", "viewer"); "" for staff
	L         *i18n.Localizer
	IP        string
	UserAgent string
}

// Scope is what of the organisation's documentation the viewer sees: staff-only items for staff only.
func (v *Viewer) Scope() db.DocScope { return db.DocScope{OrgID: v.Org.ID, StaffView: v.Staff} }

func (v *Viewer) actor() db.DocActor { return db.DocActor{ID: v.ID, Name: v.Name} }

// fragClass is everything about the viewer that changes a cached fragment of the area's list, and nothing
// more, so that people alike share fragments and people unalike never do:
//   - Staff: staff see staff-only items (and their badge), menu counts that include them, and the bulk bar;
//   - CanEdit(area): the "new" button (a customer's manager edits contacts, a reader does not); a is nil
//     for the menu, which has no such button;
//   - CanImport(): the import button.
//
// Never the person's id or name: nothing of the person is rendered into a fragment. A person whose role
// changes gets the other class's fragment on their next request (the role is read on every request).
func (v *Viewer) fragClass(a *docs.Area) string {
	b := []byte("c--")
	if v.Staff {
		b[0] = 's'
	}
	if a != nil && v.CanEdit(a) {
		b[1] = 'e'
	}
	if v.CanImport() {
		b[2] = 'i'
	}
	return string(b)
}

// tz is the viewer's time zone: dates on a page and "today" for warranties are in it.
func (v *Viewer) tz() *time.Location {
	if v.L != nil && v.L.TZ != nil {
		return v.L.TZ
	}
	return time.Local
}

// CanEdit: MSP staff edit everything; a customer's manager edits the contacts.
func (v *Viewer) CanEdit(a *docs.Area) bool {
	// By name: an area extended with custom fields is a copy of docs.Contacts, not the same pointer.
	return v.Staff || (v.Role == "manager" && a.Name == docs.Contacts.Name)
}

// CanImport: only MSP staff import (an import may bring many items at once).
func (v *Viewer) CanImport() bool { return v.Staff }

// CanSeeHistory: earlier versions, with their secrets, are for MSP staff only.
func (v *Viewer) CanSeeHistory() bool { return v.Staff }

// orgID is the route's organisation; 0 in the staff area (the MSP's templates).
func (v *Viewer) orgID() int64 {
	if v.Org == nil {
		return 0
	}
	return v.Org.ID
}

// entry is an audit entry of this viewer's action in the organisation.
func (v *Viewer) entry(action, target string) db.AuditEntry {
	return db.AuditEntry{OrgID: v.orgID(), Action: action, Target: target, IP: v.IP, UserAgent: v.UserAgent, ActorID: v.ID, ActorName: v.Name}
}

// ItemTarget is the audit target of an entry about a documentation item: "<id>:<area>:<name>", or
// "<id>:<area>.<field>:<name>" when it concerns one field. The field is stored by name, not by label, so
// that every reader of the log sees it in their own language (the handlers' audit_text.go turns it into
// words); AuditOnce and RecentEntry read the id prefix.
func ItemTarget(id int64, area, field, name string) string {
	t := strconv.FormatInt(id, 10) + ":" + area
	if field != "" {
		t += "." + field
	}
	return t + ":" + name
}

// itemEntry is an audit entry about an item, staff-only when the item is.
func (v *Viewer) itemEntry(action string, area *docs.Area, id int64, name string, staffOnly bool) db.AuditEntry {
	e := v.entry(action, ItemTarget(id, area.Name, "", name))
	e.StaffOnly = staffOnly
	return e
}

// secretEntry names the item and the field by their codes; the field is also kept on its own for
// de-duplication. Never the value.
func (v *Viewer) secretEntry(action string, area *docs.Area, it *db.DocItem, field string) db.AuditEntry {
	e := v.itemEntry(action, area, it.ID, it.Name, it.StaffOnly)
	e.Target = ItemTarget(it.ID, area.Name, field, it.Name)
	if f, ok := area.Field(field); ok && f.Custom {
		// A custom field has no translation to look up when the log is read: its label, as the
		// administrator typed it, goes into the entry (the field's name stays in e.Field for de-duplication).
		e.Target = ItemTarget(it.ID, area.Name, "", it.Name+" ("+f.Label+")")
	}
	e.Field = field
	return e
}

// The kinds of error the service returns besides internal ones. Handlers map them to statuses in one place.
var (
	// ErrNotFound: no such item for this viewer — missing, deleted, of another organisation, or staff-only
	// for a customer; all answer alike.
	ErrNotFound = db.ErrNotFound
	// ErrConflict: the item changed since the editor loaded it, or a copy is confirmed without its fetch.
	ErrConflict = db.ErrConflict
	// ErrForbidden: the viewer may not do this. It also matches ErrNotFound, so a page answers it as a
	// missing item and nobody learns what exists that they may not touch.
	ErrForbidden error = forbidden{}
	// ErrInvalid: the input cannot be used (a form, an import, content too large for a QR code).
	ErrInvalid = errors.New("docsapp: invalid input")
)

type forbidden struct{}

func (forbidden) Error() string        { return "docsapp: not allowed" }
func (forbidden) Is(target error) bool { return target == db.ErrNotFound }

// InvalidError is a form that was not stored: a translation key per field, and what the form is shown with
// again.
type InvalidError struct {
	Fields    map[string]string
	Item      *db.DocItem // for an edit: the item, at the version the editor saw
	StaffOnly bool        // the staff-only choice as it would have been stored
}

func (e *InvalidError) Error() string        { return "docsapp: invalid form" }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// ConflictError is an edit refused because someone saved meanwhile; Current is the newer version.
type ConflictError struct {
	Current   *db.DocItem
	StaffOnly bool
}

func (e *ConflictError) Error() string        { return "docsapp: changed meanwhile" }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Counts is the number of live items per area in the scope (an organisation as a viewer sees it).
// Read with SQL on every call: a covering index answers it from the organisation's rows alone.
func (s *Service) Counts(ctx context.Context, sc db.DocScope) (map[string]int, error) {
	return s.db.DocCounts(ctx, sc)
}

// item loads one live item of the viewer's organisation and area.
func (s *Service) item(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*db.DocItem, error) {
	if id <= 0 {
		return nil, ErrNotFound
	}
	return s.db.DocGet(ctx, v.Scope(), area.Name, id)
}

// Item is one live item of the viewer's organisation and area.
func (s *Service) Item(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*db.DocItem, error) {
	return s.item(ctx, v, area, id)
}

// auditOnce appends e unless the person has the same entry within AuditWindow (db.AuditOnce). The wait
// is for the audit log's group commit, that is for the disk, so it happens outside the page gate (package
// admit): meanwhile the place goes to the next page.
//
// A committed entry of the window already covers the request (a person going back to an item, revealing
// the same field again): one read says so, and the request neither waits for the group commit nor gives
// up its place. Without one, AuditOnce decides again on the writer, so parallel first looks still leave
// one entry; a failed read leaves the decision to it too.
func (s *Service) auditOnce(ctx context.Context, e db.AuditEntry, itemID int64) error {
	if recent, err := s.db.RecentEntry(ctx, e.ActorID, itemID, e.Action, e.Field, e.StaffOnly, AuditWindow); err == nil && recent {
		return nil
	}
	var err error
	admit.Outside(ctx, func() { _, err = s.db.AuditOnce(ctx, e, itemID, AuditWindow) })
	return err
}
