package docsapp

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"portier/db"
	"portier/docs"
)

// Detail is one item as its page shows it.
type Detail struct {
	Item     *db.DocItem
	Contacts map[string]string // names of the contacts it refers to, by id
	Now      time.Time         // the time the page is as of (warranty and expiry highlights); its day is in the cache key
}

// AuditWindow is how long one audit entry covers further views, reveals or copies of the same item (and
// field) by the same person.
const AuditWindow = 5 * time.Minute

// Detail loads an item for its page and records that the viewer looked at it (once per person and item per
// window, so the customer's access log says who viewed what without a line per click).
func (s *Service) Detail(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*Detail, error) {
	d, err := s.detail(ctx, v, area, id, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.auditView(ctx, v, area, d.Item.ID, d.Item.Name, d.Item.StaffOnly); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) detail(ctx context.Context, v *Viewer, area *docs.Area, id int64, now time.Time) (*Detail, error) {
	it, err := s.item(ctx, v, area, id)
	if err != nil {
		return nil, err
	}
	contacts, err := s.contactsShown(ctx, v, area, []*db.DocItem{it}, false)
	if err != nil {
		return nil, err
	}
	return &Detail{Item: it, Contacts: contacts, Now: now}, nil
}

// auditView writes the access-log line of a look at an item (once per person, item and AuditWindow).
func (s *Service) auditView(ctx context.Context, v *Viewer, area *docs.Area, id int64, name string, staffOnly bool) error {
	e := v.itemEntry("docs.view", area, id, name, staffOnly)
	if err := s.auditOnce(ctx, e, id); err != nil {
		// Looking at an item (no secret) stays possible while the disk is full or read-only; only the
		// access-log line is missing then. Reveals and copies still refuse without their audit entry.
		if !db.StorageTrouble(err) {
			return err
		}
		s.log.Warn("item view not audited: storage", "err", err)
	}
	return nil
}

// DetailPage is the content of an item's page as DetailHTML returns it, with what the page's title and
// the access log need of the item.
type DetailPage struct {
	HTML      []byte // shared with the cache: write it, never change it
	Name      string
	StaffOnly bool
}

// DetailHTML is the content of an item's page as render writes it, from the cache of fragments when the
// same item was rendered for the same class of viewer since the organisation's documentation last changed
// (links, files and documents included: db moves the generation on for each). render must write only what
// the key covers: nothing of the person or the request (no name, no flash, no CSP nonce), like ListHTML's.
// The look is audited on every request, from the cache or not; an item the viewer may not see is
// ErrNotFound, and nothing of it is kept.
func (s *Service) DetailHTML(ctx context.Context, v *Viewer, area *docs.Area, id int64, render func(d *Detail, w io.Writer) error) (*DetailPage, error) {
	if id <= 0 {
		return nil, ErrNotFound
	}
	now := s.now()
	key := pageKey(v, area, now)
	key.WriteString("detail\x00")
	key.WriteString(strconv.FormatInt(id, 10))
	raw, err := s.frags.get(ctx, s.db, v.Org.ID, key.String(), func(w io.Writer) (bool, error) {
		d, err := s.detail(ctx, v, area, id, now)
		if err != nil {
			return false, err
		}
		if _, err := w.Write(detailHead(d.Item)); err != nil {
			return false, err
		}
		return true, render(d, w)
	})
	if err != nil {
		return nil, err
	}
	p, err := splitDetailHead(raw)
	if err != nil {
		return nil, err
	}
	if err := s.auditView(ctx, v, area, id, p.Name, p.StaffOnly); err != nil {
		return nil, err
	}
	return p, nil
}

// detailHead goes ahead of a detail fragment's HTML: whether the item is staff-only (one byte), the
// length of its name (uvarint) and the name.
func detailHead(it *db.DocItem) []byte {
	b := make([]byte, 1, 1+binary.MaxVarintLen64+len(it.Name))
	if it.StaffOnly {
		b[0] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(it.Name)))
	return append(b, it.Name...)
}

func splitDetailHead(raw []byte) (*DetailPage, error) {
	if len(raw) < 2 {
		return nil, errBadDetailHead
	}
	n, k := binary.Uvarint(raw[1:])
	if k <= 0 || uint64(len(raw)-1-k) < n {
		return nil, errBadDetailHead
	}
	name := raw[1+k : 1+k+int(n)]
	return &DetailPage{StaffOnly: raw[0] == 1, Name: string(name), HTML: raw[1+k+int(n):]}, nil
}

var errBadDetailHead = errors.New("docsapp: detail fragment without its head")

// ItemForEdit loads an item the viewer may change.
func (s *Service) ItemForEdit(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*db.DocItem, error) {
	if !v.CanEdit(area) {
		return nil, ErrForbidden
	}
	return s.item(ctx, v, area, id)
}

// Input is an item form as sent.
type Input struct {
	Values    map[string]string // by field name; a Bool field "1" or ""
	Generate  map[string]bool   // secret fields to fill with a generated password
	Clear     map[string]bool   // secret fields to empty
	StaffOnly bool              // honoured for MSP staff only
	Version   int               // for an edit: the version the editor saw
}

// change validates a form into a change of the viewer's organisation, or the problems per field.
func (s *Service) change(ctx context.Context, v *Viewer, area *docs.Area, in Input) (db.DocChange, map[string]string, error) {
	ch := db.DocChange{OrgID: v.Org.ID, Area: area.Name, Fields: map[string]string{}, Secrets: map[string]string{}}
	errs := map[string]string{}
	for _, f := range area.Fields {
		val := in.Values[f.Name]
		if f.IsSecret() {
			if in.Generate[f.Name] && f.Kind == docs.Secret {
				var err error
				if val, err = generatePassword(); err != nil {
					return ch, nil, err
				}
			}
			if in.Clear[f.Name] {
				ch.Clear = append(ch.Clear, f.Name)
				continue
			}
			if val == "" {
				continue
			}
			clean, e := f.Clean(val)
			if e != "" {
				errs[f.Name] = e
				continue
			}
			ch.Secrets[f.Name] = clean
			continue
		}
		clean, e := f.Clean(val)
		if e != "" {
			errs[f.Name] = e
			continue
		}
		if f.Kind == docs.Contact && clean != "" {
			// A contact of this organisation that the viewer sees, nothing else.
			cid, _ := strconv.ParseInt(clean, 10, 64)
			if _, err := s.db.DocGet(ctx, v.Scope(), docs.Contacts.Name, cid); err != nil {
				errs[f.Name] = "docs.err.contact"
				continue
			}
		}
		if f.Name == "name" {
			ch.Name = clean
		} else if clean != "" {
			ch.Fields[f.Name] = clean
		}
	}
	ch.StaffOnly = v.Staff && in.StaffOnly
	ch.Version = in.Version
	return ch, errs, nil
}

// Create stores a new item with its first version and its audit entry, in one transaction.
func (s *Service) Create(ctx context.Context, v *Viewer, area *docs.Area, in Input) (int64, error) {
	if !v.CanEdit(area) {
		return 0, ErrForbidden
	}
	ch, errs, err := s.change(ctx, v, area, in)
	if err != nil {
		return 0, err
	}
	if len(errs) > 0 {
		return 0, &InvalidError{Fields: errs, StaffOnly: ch.StaffOnly}
	}
	return s.db.DocCreate(ctx, s.sealer, ch, v.actor(), func(tx *sql.Tx, id int64) error {
		return s.db.Audit(ctx, tx, v.itemEntry("docs.create", area, id, ch.Name, ch.StaffOnly))
	})
}

// Update changes an item if it is still at the version the editor saw, with a new version and its audit
// entry in one transaction. A customer's manager cannot change whether an item is staff-only.
func (s *Service) Update(ctx context.Context, v *Viewer, area *docs.Area, id int64, in Input) error {
	it, err := s.ItemForEdit(ctx, v, area, id)
	if err != nil {
		return err
	}
	ch, errs, err := s.change(ctx, v, area, in)
	if err != nil {
		return err
	}
	if !v.Staff {
		ch.StaffOnly = it.StaffOnly
	}
	if len(errs) > 0 {
		it.Version = ch.Version
		return &InvalidError{Fields: errs, Item: it, StaffOnly: ch.StaffOnly}
	}
	err = s.db.DocUpdate(ctx, s.sealer, it.ID, ch, v.actor(), func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.itemEntry("docs.update", area, it.ID, ch.Name, ch.StaffOnly))
	})
	if errors.Is(err, db.ErrConflict) {
		cur, gerr := s.item(ctx, v, area, it.ID)
		if gerr != nil {
			return gerr
		}
		return &ConflictError{Current: cur, StaffOnly: ch.StaffOnly}
	}
	return err
}

// UndoWindow is how long a deletion can be undone.
const UndoWindow = 10 * time.Minute

// Delete deletes an item (softly, so it can be restored within UndoWindow) and returns it as it was.
func (s *Service) Delete(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*db.DocItem, error) {
	it, err := s.ItemForEdit(ctx, v, area, id)
	if err != nil {
		return nil, err
	}
	err = s.db.DocSetDeleted(ctx, s.sealer, v.Org.ID, it.ID, true, v.actor(), func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.itemEntry("docs.delete", area, it.ID, it.Name, it.StaffOnly))
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// Restore brings back an item deleted within UndoWindow.
func (s *Service) Restore(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*db.DocItem, error) {
	if !v.CanEdit(area) {
		return nil, ErrForbidden
	}
	if id <= 0 {
		return nil, ErrNotFound
	}
	it, err := s.db.DocGetDeleted(ctx, v.Scope(), id)
	if err != nil {
		return nil, err
	}
	if it.Area != area.Name || s.now().Sub(it.DeletedAt) > UndoWindow {
		return nil, ErrNotFound
	}
	err = s.db.DocSetDeleted(ctx, s.sealer, v.Org.ID, id, false, v.actor(), func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.itemEntry("docs.restore", area, id, it.Name, it.StaffOnly))
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// History is an item with its versions, newest first.
type History struct {
	Item     *db.DocItem
	Entries  []HistoryEntry
	Contacts map[string]string // names of the organisation's contacts by id, for contact fields
}

// HistoryEntry is one version and what changed from the one before it: the one comparison of two
// versions (the history page words it).
type HistoryEntry struct {
	db.DocVersion
	Prev    *db.DocVersion // the version before; nil for the first
	Changes []Change       // non-secret fields (the name too) in the area's order, then the staff-only mark; none for the first version
	Secrets []SecretChange // secret fields set, changed or removed in this version, in the area's order
}

// Change is one changed value. Field is a field's name, or StaffOnlyChange ("1" or "" then).
type Change struct {
	Field    string
	Old, New string
}

// StaffOnlyChange is the Field of a change of the staff-only mark.
const StaffOnlyChange = "staff_only"

// A secret is never compared by value on a page: a version says it was set, changed or removed, and each
// side is opened only on request (RevealVersion, audited).
const (
	SecretSet     = "secret_set"
	SecretChanged = "secret_changed"
	SecretRemoved = "secret_removed"
)

// SecretChange is a secret field that changed in a version.
type SecretChange struct {
	Field   string
	State   string // SecretSet, SecretChanged or SecretRemoved
	Version int64  // the version that holds the new value (its id); 0 when removed
	PrevVer int64  // the version that holds the old value (its id); 0 when newly set
}

// History lists an item's versions (MSP staff only).
func (s *Service) History(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*History, error) {
	if !v.CanSeeHistory() {
		return nil, ErrForbidden
	}
	it, err := s.item(ctx, v, area, id)
	if err != nil {
		return nil, err
	}
	versions, err := s.db.DocHistory(ctx, v.Scope(), id)
	if err != nil {
		return nil, err
	}
	h := &History{Item: it}
	if h.Contacts, err = s.contactNames(ctx, v, area); err != nil {
		return nil, err
	}
	for i := range versions {
		var prev *db.DocVersion
		if i+1 < len(versions) {
			prev = &versions[i+1]
		}
		h.Entries = append(h.Entries, compareVersions(area, prev, &versions[i]))
	}
	return h, nil
}

// compareVersions is what changed from prev (nil for the first version, whose secrets count as set) to ver.
func compareVersions(area *docs.Area, prev, ver *db.DocVersion) HistoryEntry {
	e := HistoryEntry{DocVersion: *ver, Prev: prev}
	inVersion := map[string]bool{}
	for _, f := range ver.Secrets {
		inVersion[f] = true
	}
	for _, f := range area.Fields {
		switch {
		case f.IsSecret():
			had := prev != nil && prev.HasSecret[f.Name]
			has := ver.HasSecret[f.Name]
			if (!inVersion[f.Name] && had == has) || (!has && !had) {
				continue
			}
			sc := SecretChange{Field: f.Name, State: SecretChanged}
			switch {
			case !has:
				sc.State = SecretRemoved
			case !had:
				sc.State = SecretSet
			}
			if has {
				sc.Version = ver.ID
			}
			if had {
				sc.PrevVer = prev.ID
			}
			e.Secrets = append(e.Secrets, sc)
		case prev == nil:
		case f.Name == "name":
			if prev.Name != ver.Name {
				e.Changes = append(e.Changes, Change{Field: "name", Old: prev.Name, New: ver.Name})
			}
		case prev.Fields[f.Name] != ver.Fields[f.Name]:
			e.Changes = append(e.Changes, Change{Field: f.Name, Old: prev.Fields[f.Name], New: ver.Fields[f.Name]})
		}
	}
	if prev != nil && prev.StaffOnly != ver.StaffOnly {
		e.Changes = append(e.Changes, Change{Field: StaffOnlyChange, Old: flag(prev.StaffOnly), New: flag(ver.StaffOnly)})
	}
	return e
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// generatePassword makes a 20-character password from an alphabet without look-alikes, with at least one
// character of every class so that any composition rule on the target system is met.
func generatePassword() (string, error) {
	const (
		lower   = "abcdefghijkmnopqrstuvwxyz"
		upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits  = "23456789"
		symbols = "!#%+-=?@_"
	)
	all := lower + upper + digits + symbols
	for {
		b := make([]byte, 20)
		for i := range b {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(all))))
			if err != nil {
				return "", err
			}
			b[i] = all[n.Int64()]
		}
		p := string(b)
		if strings.ContainsAny(p, lower) && strings.ContainsAny(p, upper) && strings.ContainsAny(p, digits) && strings.ContainsAny(p, symbols) {
			return p, nil
		}
	}
}
