package docsapp

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"portier/db"
	"portier/markdown"
)

// Documents: an organisation's Markdown articles (procedures and notes) in folders, with revisions, and
// the MSP-wide templates staff copy into organisations. A viewer without an organisation (Org nil, the
// staff area) works on the templates. Reading an organisation's documents is for its members and MSP
// staff (staff-only ones for staff); writing, history and templates are for MSP staff only.

// docScope is the viewer's documents: the organisation's, or the templates in the staff area.
func (v *Viewer) docScope() db.ArticleScope {
	if v.Org == nil {
		return db.ArticleScope{StaffView: true}
	}
	return db.ArticleScope{OrgID: v.Org.ID, StaffView: v.Staff}
}

// template reports whether the viewer works on the MSP's templates.
func (v *Viewer) template() bool { return v.Org == nil }

// DocumentTarget is the audit target of an entry about a document: "<id>:documents:<title>", the shape of
// an item's target (ItemTarget) with the documents' area name.
func DocumentTarget(id int64, title string) string { return ItemTarget(id, db.ArticleArea, "", title) }

// docAction is an audit action of the viewer's kind of document ("articles.update", "templates.update").
func (v *Viewer) docAction(verb string) string {
	if v.template() {
		return "templates." + verb
	}
	return "articles." + verb
}

func (v *Viewer) docEntry(verb string, id int64, title string, staffOnly bool) db.AuditEntry {
	e := v.entry(v.docAction(verb), DocumentTarget(id, title))
	e.StaffOnly = staffOnly
	return e
}

// Documents lists the viewer's documents (or templates) by folder and title; emergencyOnly keeps the
// emergency procedures.
func (s *Service) Documents(ctx context.Context, v *Viewer, emergencyOnly bool) ([]*db.Article, error) {
	if v.template() && !v.Staff {
		return nil, ErrForbidden
	}
	return s.db.Articles(ctx, v.docScope(), emergencyOnly)
}

// Templates lists the MSP-wide templates (MSP staff only), for copying into an organisation.
func (s *Service) Templates(ctx context.Context, v *Viewer) ([]*db.Article, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	return s.db.Articles(ctx, db.ArticleScope{StaffView: true}, false)
}

// Document is one live document the viewer may read: a staff-only one is missing for customers.
func (s *Service) Document(ctx context.Context, v *Viewer, id int64) (*db.Article, error) {
	if id <= 0 || v.template() && !v.Staff {
		return nil, ErrNotFound
	}
	return s.db.Article(ctx, v.docScope(), id)
}

// DocumentForEdit is a document the viewer may change (MSP staff only).
func (s *Service) DocumentForEdit(ctx context.Context, v *Viewer, id int64) (*db.Article, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	return s.Document(ctx, v, id)
}

// DocumentFolders lists the folder names in use (the form's suggestions).
func (s *Service) DocumentFolders(ctx context.Context, v *Viewer) ([]string, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	return s.db.ArticleFolders(ctx, v.docScope())
}

// DocumentInput is a document form as sent.
type DocumentInput struct {
	Folder    string
	Title     string
	Body      string // Markdown
	StaffOnly bool   // ignored for templates
	Emergency bool
	Version   int // for an edit: the version the editor saw
}

// DocumentInvalidError is a document form that was not stored: a translation key per field, and the
// change as the form shows it again.
type DocumentInvalidError struct {
	Fields map[string]string
	Change db.ArticleChange
}

func (e *DocumentInvalidError) Error() string        { return "docsapp: invalid document" }
func (e *DocumentInvalidError) Is(target error) bool { return target == ErrInvalid }

// DocumentConflictError is an edit refused because someone saved meanwhile: Current is the newer
// version, Change what this editor typed (at Current's version, so saving again overwrites knowingly).
type DocumentConflictError struct {
	Current *db.Article
	Change  db.ArticleChange
}

func (e *DocumentConflictError) Error() string        { return "docsapp: document changed meanwhile" }
func (e *DocumentConflictError) Is(target error) bool { return target == ErrConflict }

// documentChange checks a form. Titles and folders are one line; the body is Markdown of at most
// markdown.MaxLen bytes.
func (v *Viewer) documentChange(in DocumentInput) (db.ArticleChange, map[string]string) {
	ch := db.ArticleChange{Title: strings.TrimSpace(in.Title), Folder: strings.TrimSpace(in.Folder),
		Body: strings.ReplaceAll(in.Body, "\r\n", "\n"), Emergency: in.Emergency, StaffOnly: !v.template() && in.StaffOnly, Version: in.Version}
	errs := map[string]string{}
	line := func(name, val string, max int, required bool) {
		switch {
		case val == "" && required:
			errs[name] = "docs.err.required"
		case !utf8.ValidString(val):
			errs[name] = "docs.err.utf8"
		case strings.ContainsFunc(val, unicode.IsControl):
			errs[name] = "docs.err.control"
		case utf8.RuneCountInString(val) > max:
			errs[name] = "docs.err.too_long"
		}
	}
	line("title", ch.Title, 200, true)
	line("folder", ch.Folder, 100, false)
	switch {
	case !utf8.ValidString(ch.Body):
		errs["body"] = "docs.err.utf8"
	case strings.ContainsFunc(ch.Body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		errs["body"] = "docs.err.control"
	case len(ch.Body) > markdown.MaxLen:
		errs["body"] = "docs.err.too_long"
	}
	return ch, errs
}

// PreviewDocument renders a form's body as the document would show it, without storing anything.
func (s *Service) PreviewDocument(v *Viewer, in DocumentInput) (string, error) {
	if !v.Staff {
		return "", ErrForbidden
	}
	ch, errs := v.documentChange(in)
	if errs["body"] != "" {
		return "", &DocumentInvalidError{Fields: errs, Change: ch}
	}
	return markdown.Render(ch.Body)
}

// SaveDocument stores a form: a new document (id 0) with its first revision, or a new revision of
// document id if it is still at the version the editor saw; each with its audit entry in the same
// transaction. It returns the document's id.
func (s *Service) SaveDocument(ctx context.Context, v *Viewer, id int64, in DocumentInput) (int64, error) {
	if !v.Staff {
		return 0, ErrForbidden
	}
	var old *db.Article
	if id != 0 {
		var err error
		if old, err = s.Document(ctx, v, id); err != nil {
			return 0, err
		}
	}
	ch, errs := v.documentChange(in)
	if len(errs) > 0 {
		return 0, &DocumentInvalidError{Fields: errs, Change: ch}
	}
	if old == nil {
		return s.db.ArticleCreate(ctx, v.orgID(), ch, v.actor(), func(tx *sql.Tx, nid int64) error {
			return s.db.Audit(ctx, tx, v.docEntry("create", nid, ch.Title, ch.StaffOnly))
		})
	}
	err := s.db.ArticleUpdate(ctx, v.docScope(), id, ch, v.actor(), func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.docEntry("update", id, ch.Title, ch.StaffOnly || old.StaffOnly))
	})
	if errors.Is(err, db.ErrConflict) {
		cur, gerr := s.Document(ctx, v, id)
		if gerr != nil {
			return 0, gerr
		}
		ch.Version = cur.Version
		return 0, &DocumentConflictError{Current: cur, Change: ch}
	}
	return id, err
}

// CopyTemplate copies an MSP-wide template into the viewer's organisation as a new document, staff-only
// until staff decide otherwise: a template may name things the customer should not read before it is
// adapted.
func (s *Service) CopyTemplate(ctx context.Context, v *Viewer, templateID int64) (int64, error) {
	if !v.Staff || v.template() {
		return 0, ErrForbidden
	}
	if templateID <= 0 {
		return 0, ErrNotFound
	}
	t, err := s.db.Article(ctx, db.ArticleScope{StaffView: true}, templateID)
	if err != nil {
		return 0, err
	}
	ch := db.ArticleChange{Folder: t.Folder, Title: t.Title, Body: t.Body, Emergency: t.Emergency, StaffOnly: true}
	return s.db.ArticleCreate(ctx, v.orgID(), ch, v.actor(), func(tx *sql.Tx, nid int64) error {
		return s.db.Audit(ctx, tx, v.docEntry("copy", nid, ch.Title, true))
	})
}

// DeleteDocument deletes a document (softly: it can be restored within UndoWindow, with its links and
// files) and returns it as it was.
func (s *Service) DeleteDocument(ctx context.Context, v *Viewer, id int64) (*db.Article, error) {
	a, err := s.DocumentForEdit(ctx, v, id)
	if err != nil {
		return nil, err
	}
	err = s.db.ArticleDelete(ctx, v.docScope(), a.ID, func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.docEntry("delete", a.ID, a.Title, a.StaffOnly))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RestoreDocument brings back a document deleted within UndoWindow.
func (s *Service) RestoreDocument(ctx context.Context, v *Viewer, id int64) (*db.Article, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	if id <= 0 {
		return nil, ErrNotFound
	}
	return s.db.ArticleRestore(ctx, v.docScope(), id, s.now().Add(-UndoWindow), func(tx *sql.Tx, a *db.Article) error {
		return s.db.Audit(ctx, tx, v.docEntry("restore", a.ID, a.Title, a.StaffOnly))
	})
}

// DocumentHistory is a document's revisions, newest first, and its link changes (MSP staff only).
type DocumentHistory struct {
	Document  *db.Article
	Revisions []db.ArticleRevision
	Links     []db.DocLinkEvent
}

// History of a document.
func (s *Service) DocumentHistory(ctx context.Context, v *Viewer, id int64) (*DocumentHistory, error) {
	if !v.CanSeeHistory() {
		return nil, ErrForbidden
	}
	a, err := s.Document(ctx, v, id)
	if err != nil {
		return nil, err
	}
	h := &DocumentHistory{Document: a}
	if h.Revisions, err = s.db.ArticleRevisions(ctx, v.docScope(), id); err != nil {
		return nil, err
	}
	if !v.template() {
		if h.Links, err = s.db.ArticleLinkEvents(ctx, v.Scope(), id); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Links between documents and items.

// MaxLinkLabel is the longest label a link takes (runes).
const MaxLinkLabel = 100

// CheckLinkLabel returns the translation key of what is wrong with a link's label, or "".
func CheckLinkLabel(label string) string {
	if utf8.RuneCountInString(label) > MaxLinkLabel || !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl) {
		return "links.err.label"
	}
	return ""
}

// LinkDocument links a document and an item of the viewer's organisation (MSP staff only), with the
// audit entry in the same transaction. ErrNotFound when either is missing for the viewer, deleted, or of
// another organisation; ErrConflict when they are linked already.
func (s *Service) LinkDocument(ctx context.Context, v *Viewer, docID, itemID int64, label string) error {
	if !v.Staff || v.template() {
		return ErrForbidden
	}
	label = strings.TrimSpace(label)
	if k := CheckLinkLabel(label); k != "" {
		return &DocumentInvalidError{Fields: map[string]string{"label": k}}
	}
	return s.db.ArticleLinkAdd(ctx, v.Scope(), docID, itemID, label, v.actor(), func(tx *sql.Tx, ch db.ArticleLinkChange) error {
		return s.db.Audit(ctx, tx, v.docLinkEntry("docs.link", ch))
	})
}

// UnlinkDocument removes the link between a document and an item of the viewer's organisation.
func (s *Service) UnlinkDocument(ctx context.Context, v *Viewer, docID, itemID int64) error {
	if !v.Staff || v.template() {
		return ErrForbidden
	}
	return s.db.ArticleLinkRemove(ctx, v.Scope(), docID, itemID, v.actor(), func(tx *sql.Tx, ch db.ArticleLinkChange) error {
		return s.db.Audit(ctx, tx, v.docLinkEntry("docs.unlink", ch))
	})
}

// LinkSep joins the two sides of a link's audit target.
const LinkSep = " ↔ "

func (v *Viewer) docLinkEntry(action string, ch db.ArticleLinkChange) db.AuditEntry {
	e := v.entry(action, ItemTarget(ch.ItemID, ch.ItemArea, "", ch.ItemName)+LinkSep+DocumentTarget(ch.ArticleID, ch.ArticleTitle))
	e.StaffOnly = ch.StaffOnly
	return e
}

// DocumentLinks lists the items linked to a document, as the viewer may see them (never a staff-only
// item for a customer).
func (s *Service) DocumentLinks(ctx context.Context, v *Viewer, docID int64) ([]db.DocLink, error) {
	return s.db.ArticleLinkedItems(ctx, v.Scope(), docID)
}

// ItemDocuments lists the documents linked to an item, as the viewer may see them (never a staff-only
// document for a customer).
func (s *Service) ItemDocuments(ctx context.Context, v *Viewer, itemID int64) ([]db.DocLink, error) {
	return s.db.ItemLinkedArticles(ctx, v.Scope(), itemID)
}

// ItemDocumentEvents lists an item's document link changes (MSP staff only: history).
func (s *Service) ItemDocumentEvents(ctx context.Context, v *Viewer, itemID int64) ([]db.DocLinkEvent, error) {
	if !v.CanSeeHistory() {
		return nil, ErrForbidden
	}
	return s.db.ItemArticleLinkEvents(ctx, v.Scope(), itemID)
}

// DocumentLinkCandidates finds items to link to a document by what was typed.
func (s *Service) DocumentLinkCandidates(ctx context.Context, v *Viewer, docID int64, text string) ([]*db.DocItem, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	return s.db.ArticleLinkCandidates(ctx, v.Scope(), docID, trimSearch(text), 30)
}

// ItemDocumentCandidates finds documents to link to an item by what was typed.
func (s *Service) ItemDocumentCandidates(ctx context.Context, v *Viewer, itemID int64, text string) ([]*db.ArticleHit, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	return s.db.ItemArticleCandidates(ctx, v.Scope(), itemID, trimSearch(text), 30)
}

// SearchDocuments finds the viewer's documents of the organisation by title and body; allOrgs searches
// every organisation (MSP staff only).
func (s *Service) SearchDocuments(ctx context.Context, v *Viewer, text string, allOrgs bool) ([]*db.ArticleHit, error) {
	if allOrgs {
		if !v.Staff {
			return nil, ErrForbidden
		}
		return s.db.ArticleSearch(ctx, db.DocScope{StaffView: true}, true, trimSearch(text), searchLimit)
	}
	return s.db.ArticleSearch(ctx, v.Scope(), false, trimSearch(text), searchLimit)
}
