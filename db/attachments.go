package db

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// AttachmentChunk is how many bytes of a file one sealed chunk holds. Memory per upload or download is a
// few chunks, whatever the file's size.
const AttachmentChunk = 64 << 10

// ErrTooLarge: the file is larger than the limit it was uploaded under.
var ErrTooLarge = errors.New("file too large")

// Attachment is a file on an item (its content is read with AttachmentWrite).
type Attachment struct {
	ID          int64
	OrgID       int64
	ItemID      int64
	Name        string
	ContentType string // as sniffed from the content on upload, never as the browser claimed
	Size        int64
	StaffOnly   bool
	HasThumb    bool
	CreatedAt   time.Time
	CreatedBy   string
	OnArticle   bool // a file on a document (ItemID is then the document's id)
	// OwnerStaffOnly: the item or document was staff-only when AttachmentFinish made the file visible
	// (set for its hook, whose audit entry must not outlive a change made while the file arrived).
	OwnerStaffOnly bool
}

// FileOwner is what a file hangs on: an item, or a document (OnArticle).
type FileOwner struct {
	OnArticle bool
	ID        int64
}

// OnItem is the owner of an item's files.
func OnItem(id int64) FileOwner { return FileOwner{ID: id} }

// OnArticle is the owner of a document's files.
func OnArticle(id int64) FileOwner { return FileOwner{OnArticle: true, ID: id} }

// articleFiles turns a statement on items' files into the same statement on documents' files: the two
// schemas are the same but for their names (0032_article_attachments.sql), and a document has the
// org_id, staff_only and deleted_at columns the statements read of an item.
var articleFiles = strings.NewReplacer("doc_attachment_chunks", "article_attachment_chunks", "doc_attachment_thumbs", "article_attachment_thumbs",
	"doc_attachments", "article_attachments", "doc_items", "articles", "item_id", "article_id")

// fq is a statement for the files of the owner's kind.
func fq(onArticle bool, q string) string {
	if onArticle {
		return articleFiles.Replace(q)
	}
	return q
}

// chunkAEAD is the cipher of attachment chunks: AES-256-GCM under a key of its own (HKDF purpose), so
// chunks and secret columns never share a key.
func (s *Sealer) chunkAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.PurposeKey("attachment chunks v1"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// chunkAD binds a chunk to its attachment, its position and whether it is the last: a chunk moved to
// another file or position does not open, and a file cut after any chunk but its last has no chunk that
// opens as final (truncation), while chunks appended after the final one are refused.
func chunkAD(onArticle bool, attID int64, n int, final bool) []byte {
	f := "0"
	if final {
		f = "1"
	}
	return []byte(fq(onArticle, "doc_attachment_chunks") + "\x00" + strconv.FormatInt(attID, 10) + "\x00" + strconv.Itoa(n) + "\x00" + f)
}

// staleUpload is how long an unfinished upload (the process stopped during it) is left before it is
// removed.
const staleUpload = time.Hour

// AttachmentUpload is a file to store on an item.
type AttachmentUpload struct {
	ItemID    int64 // the item's, or with OnArticle the document's id
	OnArticle bool
	Name      string
	StaffOnly bool
	Max       int64 // bytes; larger files are refused with ErrTooLarge
	// Check judges the file by its first chunk (up to AttachmentChunk bytes) and returns the content type
	// to store, or an error that ends the upload before anything is stored.
	Check func(head []byte) (string, error)
}

// AttachmentCreate stores a file and completes it (AttachmentStore, then AttachmentFinish).
func (d *DB) AttachmentCreate(ctx context.Context, s *Sealer, sc DocScope, up AttachmentUpload, r io.Reader, by DocActor,
	hook func(*sql.Tx, *Attachment) error) (*Attachment, error) {
	a, err := d.AttachmentStore(ctx, s, sc, up, r, by)
	if err != nil {
		return nil, err
	}
	if err := d.AttachmentFinish(ctx, a, up.StaffOnly, hook); err != nil {
		d.AttachmentAbandon(a)
		return nil, err
	}
	return a, nil
}

// AttachmentStore streams r into sealed chunks of a new attachment on a live item of the scope. Each
// chunk is its own short write, so a slow upload never holds the single writer. The attachment stays
// invisible (complete = 0) until AttachmentFinish; on error nothing of it remains, and a caller that does
// not finish calls AttachmentAbandon.
func (d *DB) AttachmentStore(ctx context.Context, s *Sealer, sc DocScope, up AttachmentUpload, r io.Reader, by DocActor) (*Attachment, error) {
	aead, err := s.chunkAEAD()
	if err != nil {
		return nil, err
	}
	cur := make([]byte, AttachmentChunk)
	next := make([]byte, AttachmentChunk)
	n, err := io.ReadFull(r, cur)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	cur = cur[:n]
	if int64(n) > up.Max {
		return nil, ErrTooLarge
	}
	ct, err := up.Check(cur)
	if err != nil {
		return nil, err
	}
	now := d.Now()
	a := &Attachment{OrgID: sc.OrgID, ItemID: up.ItemID, Name: up.Name, ContentType: ct, StaffOnly: up.StaffOnly, CreatedAt: now, CreatedBy: by.Name,
		OnArticle: up.OnArticle}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, fq(a.OnArticle, `DELETE FROM doc_attachments WHERE complete = 0 AND created_at < ?`), now.Add(-staleUpload).Unix()); err != nil {
			return err
		}
		if up.OnArticle {
			if _, _, err := articleInScope(ctx, tx, sc, up.ItemID); err != nil {
				return err
			}
		} else if _, _, _, err := liveInScope(ctx, tx, sc, up.ItemID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, fq(a.OnArticle, `INSERT INTO doc_attachments(org_id, item_id, name, content_type, staff_only, created_at, created_by_name)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), sc.OrgID, up.ItemID, up.Name, ct, up.StaffOnly, now.Unix(), by.Name).Scan(&a.ID)
	})
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			// The upload failed or was cancelled: remove what was stored, also when the request's context is gone.
			d.abandon(ctx, a)
		}
	}()
	sealed := make([]byte, 0, 1+aead.NonceSize()+AttachmentChunk+aead.Overhead())
	for i := 0; ; i++ {
		var m int
		if len(cur) == AttachmentChunk {
			m, err = io.ReadFull(r, next)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return nil, err
			}
		}
		final := m == 0
		a.Size += int64(len(cur))
		if a.Size+int64(m) > up.Max {
			return nil, ErrTooLarge
		}
		sealed = sealed[:1+aead.NonceSize()]
		sealed[0] = keyID
		if _, err := io.ReadFull(rand.Reader, sealed[1:]); err != nil {
			return nil, err
		}
		sealed = aead.Seal(sealed, sealed[1:1+aead.NonceSize()], cur, chunkAD(a.OnArticle, a.ID, i, final))
		if _, err := d.W.ExecContext(ctx, fq(a.OnArticle, `INSERT INTO doc_attachment_chunks(attachment_id, n, sealed) VALUES (?, ?, ?)`), a.ID, i, sealed); err != nil {
			return nil, err
		}
		if final {
			break
		}
		cur, next = next[:m], cur[:AttachmentChunk]
	}
	done = true
	return a, nil
}

// AttachmentFinish makes a stored file visible, staff-only or not, in one transaction with hook (audit).
// A large upload takes minutes: its item or document is looked at again here, so a file does not land on
// one deleted meanwhile (ErrNotFound), and the hook sees whether the owner is staff-only now.
func (d *DB) AttachmentFinish(ctx context.Context, a *Attachment, staffOnly bool, hook func(*sql.Tx, *Attachment) error) error {
	a.StaffOnly = staffOnly
	defer d.bumpDocs(a.OrgID) // the owner's page shows its files (docsapp's detail fragments)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, fq(a.OnArticle, `SELECT staff_only FROM doc_items WHERE id = ? AND org_id = ? AND deleted_at IS NULL`),
			a.ItemID, a.OrgID).Scan(&a.OwnerStaffOnly)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, fq(a.OnArticle, `UPDATE doc_attachments SET complete = 1, size = ?, staff_only = ? WHERE id = ? AND complete = 0`),
			a.Size, staffOnly, a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound // removed as stale meanwhile
		}
		if hook != nil {
			return hook(tx, a)
		}
		return nil
	})
}

// AttachmentAbandon removes a stored file that was not finished.
func (d *DB) AttachmentAbandon(a *Attachment) { d.abandon(context.Background(), a) }

// abandon removes an unfinished file, also when the request's context is gone.
func (d *DB) abandon(ctx context.Context, a *Attachment) {
	_, _ = d.W.ExecContext(context.WithoutCancel(ctx), fq(a.OnArticle, `DELETE FROM doc_attachments WHERE id = ? AND complete = 0`), a.ID)
}

const attCols = `a.id, a.org_id, a.item_id, a.name, a.content_type, a.size, a.staff_only, a.created_at, a.created_by_name,
	EXISTS (SELECT 1 FROM doc_attachment_thumbs t WHERE t.attachment_id = a.id)`

func scanAttachment(r scanner) (*Attachment, error) {
	a := &Attachment{}
	var at int64
	if err := r.Scan(&a.ID, &a.OrgID, &a.ItemID, &a.Name, &a.ContentType, &a.Size, &a.StaffOnly, &at, &a.CreatedBy, &a.HasThumb); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	a.CreatedAt = unix(at)
	return a, nil
}

// attScope: complete attachments of a live item of the scope; staff-only files only for staff.
const attScope = ` FROM doc_attachments a JOIN doc_items i ON i.id = a.item_id
	WHERE a.item_id = +?1 AND a.complete = 1 AND a.org_id = +?2 AND i.org_id = +?2 AND i.deleted_at IS NULL
	AND (?3 OR (i.staff_only = 0 AND a.staff_only = 0))`

// Attachments lists the files of a live item of the scope, by name.
func (d *DB) Attachments(ctx context.Context, sc DocScope, itemID int64) ([]*Attachment, error) {
	return d.Files(ctx, sc, OnItem(itemID))
}

// Files lists the files of a live item or document of the scope, by name.
func (d *DB) Files(ctx context.Context, sc DocScope, o FileOwner) ([]*Attachment, error) {
	rows, err := d.query(ctx, fq(o.OnArticle, `SELECT `+attCols+attScope+` ORDER BY a.name COLLATE NOCASE, a.id`), o.ID, sc.OrgID, sc.StaffView)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		a.OnArticle = o.OnArticle
		out = append(out, a)
	}
	return out, rows.Err()
}

// AttachmentGet loads one file of a live item of the scope (ErrNotFound for files the scope does not see).
func (d *DB) AttachmentGet(ctx context.Context, sc DocScope, itemID, attID int64) (*Attachment, error) {
	return d.FileGet(ctx, sc, OnItem(itemID), attID)
}

// FileGet loads one file of a live item or document of the scope (ErrNotFound for files the scope does
// not see).
func (d *DB) FileGet(ctx context.Context, sc DocScope, o FileOwner, attID int64) (*Attachment, error) {
	a, err := scanAttachment(d.queryRow(ctx, fq(o.OnArticle, `SELECT `+attCols+attScope+` AND a.id = ?4`), o.ID, sc.OrgID, sc.StaffView, attID))
	if err == nil {
		a.OnArticle = o.OnArticle
	}
	return a, err
}

// AttachmentWrite writes a file's content to w, opening one chunk at a time (each read on its own, so no
// read transaction stays open while a slow client downloads). ErrSealBroken when a chunk was altered,
// moved, dropped or added; what was written before that point is then incomplete, which the caller's
// Content-Length makes visible to the client.
func (d *DB) AttachmentWrite(ctx context.Context, s *Sealer, a *Attachment, w io.Writer) error {
	aead, err := s.chunkAEAD()
	if err != nil {
		return err
	}
	ns := aead.NonceSize()
	var written int64
	buf := make([]byte, 0, AttachmentChunk)
	var sealed []byte
	for i := 0; ; i++ {
		sealed = sealed[:0]
		err := d.queryRow(ctx, fq(a.OnArticle, `SELECT sealed FROM doc_attachment_chunks WHERE attachment_id = ? AND n = ?`), a.ID, i).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSealBroken // cut short: no chunk opened as the last one
		}
		if err != nil {
			return err
		}
		if len(sealed) < 1+ns+aead.Overhead() || sealed[0] != keyID {
			return ErrSealBroken
		}
		final := false
		pt, err := aead.Open(buf[:0], sealed[1:1+ns], sealed[1+ns:], chunkAD(a.OnArticle, a.ID, i, false))
		if err != nil {
			if pt, err = aead.Open(buf[:0], sealed[1:1+ns], sealed[1+ns:], chunkAD(a.OnArticle, a.ID, i, true)); err != nil {
				return ErrSealBroken
			}
			final = true
		}
		written += int64(len(pt))
		if written > a.Size {
			return ErrSealBroken
		}
		if final {
			var extra int
			if err := d.queryRow(ctx, fq(a.OnArticle, `SELECT count(*) FROM doc_attachment_chunks WHERE attachment_id = ? AND n > ?`), a.ID, i).Scan(&extra); err != nil {
				return err
			}
			if extra > 0 || written != a.Size {
				return ErrSealBroken
			}
		}
		if _, err := w.Write(pt); err != nil {
			return err
		}
		if final {
			return nil
		}
	}
}

// FileSetThumb stores a picture's preview (a re-encoded PNG), sealed to the file. a is the file as
// AttachmentStore or FileGet returned it: its organisation's generation moves on (a bare id would move
// nobody's, and the owner's cached page would go on without its preview).
func (d *DB) FileSetThumb(ctx context.Context, s *Sealer, a *Attachment, png []byte) error {
	sealed, err := s.Seal(fq(a.OnArticle, "doc_attachment_thumbs"), "png", a.ID, png)
	if err != nil {
		return err
	}
	_, err = d.W.ExecContext(ctx, fq(a.OnArticle, `INSERT INTO doc_attachment_thumbs(attachment_id, sealed) VALUES (?, ?)
		ON CONFLICT(attachment_id) DO UPDATE SET sealed = excluded.sealed`), a.ID, sealed)
	d.bumpDocs(a.OrgID) // the owner's page shows the preview
	return err
}

// AttachmentThumb opens the preview of a file the scope sees.
func (d *DB) AttachmentThumb(ctx context.Context, s *Sealer, sc DocScope, itemID, attID int64) ([]byte, error) {
	return d.FileThumb(ctx, s, sc, OnItem(itemID), attID)
}

// FileThumb opens the preview of a file of an item or document the scope sees.
func (d *DB) FileThumb(ctx context.Context, s *Sealer, sc DocScope, o FileOwner, attID int64) ([]byte, error) {
	var sealed []byte
	err := d.queryRow(ctx, fq(o.OnArticle, `SELECT t.sealed FROM doc_attachment_thumbs t WHERE t.attachment_id = ?4
		AND EXISTS (SELECT 1`+attScope+` AND a.id = ?4)`), o.ID, sc.OrgID, sc.StaffView, attID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.Open(fq(o.OnArticle, "doc_attachment_thumbs"), "png", attID, sealed)
}

// AttachmentSetStaffOnly hides a file from customers or shows it again; hook runs in the transaction.
func (d *DB) AttachmentSetStaffOnly(ctx context.Context, sc DocScope, itemID, attID int64, staffOnly bool, hook func(*sql.Tx, *Attachment) error) error {
	return d.FileSetStaffOnly(ctx, sc, OnItem(itemID), attID, staffOnly, hook)
}

// FileSetStaffOnly hides a file of an item or document from customers or shows it again; hook runs in
// the transaction.
func (d *DB) FileSetStaffOnly(ctx context.Context, sc DocScope, o FileOwner, attID int64, staffOnly bool, hook func(*sql.Tx, *Attachment) error) error {
	defer d.bumpDocs(sc.OrgID)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAttachment(tx.QueryRowContext(ctx, fq(o.OnArticle, `UPDATE doc_attachments SET staff_only = ?5
			WHERE id = ?4 AND ?3 AND EXISTS (SELECT 1`+attScope+` AND a.id = ?4)
			RETURNING id, org_id, item_id, name, content_type, size, staff_only, created_at, created_by_name, 0`),
			o.ID, sc.OrgID, sc.StaffView, attID, staffOnly))
		if err != nil {
			return err
		}
		a.OnArticle = o.OnArticle
		if hook != nil {
			return hook(tx, a)
		}
		return nil
	})
}

// AttachmentDelete removes a file with its chunks for good (files are large; the audit entry remains).
func (d *DB) AttachmentDelete(ctx context.Context, sc DocScope, itemID, attID int64, hook func(*sql.Tx, *Attachment) error) error {
	return d.FileDelete(ctx, sc, OnItem(itemID), attID, hook)
}

// FileDelete removes a file of an item or document with its chunks for good.
func (d *DB) FileDelete(ctx context.Context, sc DocScope, o FileOwner, attID int64, hook func(*sql.Tx, *Attachment) error) error {
	defer d.bumpDocs(sc.OrgID)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAttachment(tx.QueryRowContext(ctx, fq(o.OnArticle, `SELECT `+attCols+attScope+` AND a.id = ?4`), o.ID, sc.OrgID, sc.StaffView, attID))
		if err != nil {
			return err
		}
		a.OnArticle = o.OnArticle
		if _, err := tx.ExecContext(ctx, fq(o.OnArticle, `DELETE FROM doc_attachments WHERE id = ?`), a.ID); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, a)
		}
		return nil
	})
}
