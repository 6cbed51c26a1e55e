package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"testing"
)

func attachFixture(t *testing.T) (*DB, *Sealer, DocScope, int64) {
	d := openTemp(t)
	ctx := context.Background()
	s, _ := NewSealer(bytes.Repeat([]byte{5}, KeySize))
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	id, err := d.DocCreate(ctx, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "Router"}, DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, s, DocScope{OrgID: a.ID, StaffView: true}, id
}

func upload(t *testing.T, d *DB, s *Sealer, sc DocScope, item int64, content []byte) *Attachment {
	a, err := d.AttachmentCreate(context.Background(), s, sc, AttachmentUpload{ItemID: item, Name: "f.txt", Max: 1 << 30,
		Check: func([]byte) (string, error) { return "text/plain; charset=utf-8", nil }}, bytes.NewReader(content), DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAttachmentRoundTripAndSealedAtRest(t *testing.T) {
	d, s, sc, item := attachFixture(t)
	ctx := context.Background()
	for _, size := range []int{1, AttachmentChunk - 1, AttachmentChunk, AttachmentChunk + 1, 3*AttachmentChunk + 17} {
		content := make([]byte, size)
		rand.Read(content)
		copy(content, "MARKER-anhang-4711")
		a := upload(t, d, s, sc, item, content)
		var out bytes.Buffer
		if err := d.AttachmentWrite(ctx, s, a, &out); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(out.Bytes(), content) || a.Size != int64(size) {
			t.Fatalf("size %d: read back %d bytes, differ", size, out.Len())
		}
	}
	d.Close()
	for _, p := range []string{d.Path, d.Path + "-wal"} {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("MARKER-anhang")) {
			t.Fatalf("%s holds attachment plaintext", p)
		}
	}
}

func TestAttachmentTamperingIsDetected(t *testing.T) {
	d, s, sc, item := attachFixture(t)
	ctx := context.Background()
	content := bytes.Repeat([]byte("0123456789abcdef"), 3*AttachmentChunk/16+5) // 4 chunks
	for name, tamper := range map[string]string{
		"truncated":   `DELETE FROM doc_attachment_chunks WHERE attachment_id = ?1 AND n = 3`,
		"reordered":   `UPDATE doc_attachment_chunks SET sealed = (SELECT sealed FROM doc_attachment_chunks c WHERE c.attachment_id = ?1 AND c.n = 3 - doc_attachment_chunks.n) WHERE attachment_id = ?1 AND n IN (1, 2)`,
		"moved":       `UPDATE doc_attachment_chunks SET sealed = (SELECT sealed FROM doc_attachment_chunks WHERE attachment_id = ?2 AND n = 1) WHERE attachment_id = ?1 AND n = 1`,
		"appended":    `INSERT INTO doc_attachment_chunks(attachment_id, n, sealed) SELECT ?1, 4, sealed FROM doc_attachment_chunks WHERE attachment_id = ?1 AND n = 3`,
		"bit flipped": `UPDATE doc_attachment_chunks SET sealed = CAST(substr(sealed, 1, 40) || CASE WHEN substr(sealed, 41, 1) = x'00' THEN x'01' ELSE x'00' END || substr(sealed, 42) AS BLOB) WHERE attachment_id = ?1 AND n = 2`,
	} {
		a := upload(t, d, s, sc, item, content)
		donor := upload(t, d, s, sc, item, content)
		if _, err := d.W.ExecContext(ctx, tamper, a.ID, donor.ID); err != nil {
			t.Fatal(name, err)
		}
		if err := d.AttachmentWrite(ctx, s, a, &bytes.Buffer{}); !errors.Is(err, ErrSealBroken) {
			t.Errorf("%s: %v, want ErrSealBroken", name, err)
		}
	}
}

func TestAttachmentLimitsAndScope(t *testing.T) {
	d, s, sc, item := attachFixture(t)
	ctx := context.Background()
	_, err := d.AttachmentCreate(ctx, s, sc, AttachmentUpload{ItemID: item, Name: "big", Max: 2*AttachmentChunk + 10,
		Check: func([]byte) (string, error) { return "text/plain", nil }}, bytes.NewReader(make([]byte, 2*AttachmentChunk+11)), DocActor{}, nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	var n int
	d.W.QueryRow(`SELECT count(*) FROM doc_attachments`).Scan(&n)
	var c int
	d.W.QueryRow(`SELECT count(*) FROM doc_attachment_chunks`).Scan(&c)
	if n != 0 || c != 0 {
		t.Fatalf("a refused upload left %d rows and %d chunks", n, c)
	}
	a := upload(t, d, s, sc, item, []byte("hello"))
	if err := d.AttachmentSetStaffOnly(ctx, sc, item, a.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	cust := DocScope{OrgID: sc.OrgID}
	if _, err := d.AttachmentGet(ctx, cust, item, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("customer gets a staff-only file: %v", err)
	}
	if l, _ := d.Attachments(ctx, cust, item); len(l) != 0 {
		t.Fatalf("customer lists a staff-only file")
	}
	if _, err := d.AttachmentGet(ctx, DocScope{OrgID: sc.OrgID + 1, StaffView: true}, item, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other organisation gets the file: %v", err)
	}
}
