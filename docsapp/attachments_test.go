package docsapp

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"portier/db"
	"portier/docs"
)

// fixedPictures stands in for avatar.Processor: every picture's preview is the same few bytes.
type fixedPictures struct{ calls atomic.Int32 }

func (p *fixedPictures) Process(ctx context.Context, data []byte) ([]byte, error) {
	p.calls.Add(1)
	return []byte("preview"), nil
}

// upload stores a finished file on the item through the service.
func (f *fixture) upload(t *testing.T, v *Viewer, h FileHolder, name string, body []byte, staffOnly bool, pics Pictures) *db.Attachment {
	t.Helper()
	ctx := context.Background()
	up, err := f.svc.StartUpload(ctx, v, h, UploadRequest{Name: name, Max: 1 << 20, Pictures: pics}, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Abandon()
	a, err := up.Finish(ctx, staffOnly)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) holder(t *testing.T, org *db.Org, name string, staffOnly bool) FileHolder {
	t.Helper()
	id := f.add(t, org.ID, "configurations", name, nil, nil, staffOnly)
	it, err := f.svc.Item(context.Background(), f.staff(org), docs.Configurations, id)
	if err != nil {
		t.Fatal(err)
	}
	return OnItem(docs.Configurations.Name, it)
}

var pdf = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 3*db.AttachmentChunk)...)

// A file becomes visible only when finished; its download is audited before a byte is sent, and what
// arrives is what was uploaded. Customers neither upload nor see staff-only files.
func TestAttachmentUploadAndDownload(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff, cust := f.staff(f.a), f.customer(f.a, "manager")
	h := f.holder(t, f.a, "Router", false)

	if _, err := f.svc.StartUpload(ctx, cust, h, UploadRequest{Name: "x.pdf", Max: 1 << 20}, bytes.NewReader(pdf)); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a customer's upload: %v", err)
	}
	up, err := f.svc.StartUpload(ctx, staff, h, UploadRequest{Name: "Handbuch.pdf", Max: 1 << 20}, bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.db.Files(ctx, staff.Scope(), db.OnItem(h.Item.ID)); len(fs) != 0 {
		t.Fatalf("an unfinished file is listed: %+v", fs)
	}
	a, err := up.Finish(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	up.Abandon() // after Finish: nothing happens
	if a.ContentType != "application/pdf" || a.Size != int64(len(pdf)) {
		t.Fatalf("stored %+v", a)
	}
	if es := f.customerAudits(t, f.a.ID, "docs.attach"); len(es) != 1 || !strings.Contains(es[0].Target, "(Handbuch.pdf)") {
		t.Fatalf("upload entries the customer reads: %+v", es)
	}

	got, err := f.svc.Attachment(ctx, cust, h, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	entriesAtStart := -1
	started, err := f.svc.Download(ctx, cust, h, got, func() (io.Writer, error) {
		entriesAtStart = len(f.audits(t, f.a.ID, "docs.download"))
		return &buf, nil
	})
	if err != nil || !started {
		t.Fatalf("download: %v %v", started, err)
	}
	if entriesAtStart != 1 {
		t.Fatalf("%d download entries when the first byte was sent, want 1", entriesAtStart)
	}
	if !bytes.Equal(buf.Bytes(), pdf) {
		t.Fatalf("downloaded %d bytes, not what was uploaded", buf.Len())
	}

	hidden := f.upload(t, staff, h, "intern.pdf", pdf, true, nil)
	if _, err := f.svc.Attachment(ctx, cust, h, hidden.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a customer opens a staff-only file: %v", err)
	}
	if es := f.customerAudits(t, f.a.ID, "docs.attach"); len(es) != 1 {
		t.Fatalf("the staff-only file's upload shows in the customer's log: %+v", es)
	}
	// Another organisation's viewer: as if the file did not exist.
	if _, err := f.svc.Attachment(ctx, f.staff(f.b), h, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("through another organisation: %v", err)
	}
}

// A refused file (its kind, its size, a body that fails) leaves nothing behind.
func TestAttachmentRefusedLeavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	h := f.holder(t, f.a, "Server", false)
	if _, err := f.svc.StartUpload(ctx, staff, h, UploadRequest{Name: "a.exe", Max: 1 << 20}, bytes.NewReader([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"))); !errors.Is(err, ErrFileType) {
		t.Fatalf("an executable: %v", err)
	}
	if _, err := f.svc.StartUpload(ctx, staff, h, UploadRequest{Name: "big.pdf", Max: int64(len(pdf) - 1)}, bytes.NewReader(pdf)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}
	broken := errors.New("connection reset")
	body := io.MultiReader(bytes.NewReader(pdf), iotestErr{broken})
	if _, err := f.svc.StartUpload(ctx, staff, h, UploadRequest{Name: "cut.pdf", Max: 1 << 20}, body); !errors.Is(err, broken) {
		t.Fatalf("a body cut short: %v", err)
	}
	up, err := f.svc.StartUpload(ctx, staff, h, UploadRequest{Name: "left.pdf", Max: 1 << 20}, bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	up.Abandon()
	if _, err := up.Finish(ctx, false); err == nil {
		t.Fatal("an abandoned upload finished")
	}
	if fs, err := f.db.Files(ctx, staff.Scope(), db.OnItem(h.Item.ID)); err != nil || len(fs) != 0 {
		t.Fatalf("files left: %v %+v", err, fs)
	}
	if es := f.audits(t, f.a.ID, "docs.attach"); len(es) != 0 {
		t.Fatalf("audited: %+v", es)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// A picture gets a preview through Pictures, shown to whoever sees the file; a PDF does not.
func TestAttachmentPreview(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff, cust := f.staff(f.a), f.customer(f.a, "viewer")
	h := f.holder(t, f.a, "Kamera", false)
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	pics := &fixedPictures{}
	pic := f.upload(t, staff, h, "bild.png", img.Bytes(), false, pics)
	doc := f.upload(t, staff, h, "doc.pdf", pdf, false, pics)
	if pics.calls.Load() != 1 {
		t.Fatalf("%d previews made, want 1 (the picture's)", pics.calls.Load())
	}
	if b, err := f.svc.Thumb(ctx, cust, h, pic.ID); err != nil || string(b) != "preview" {
		t.Fatalf("the picture's preview: %q %v", b, err)
	}
	if _, err := f.svc.Thumb(ctx, cust, h, doc.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the PDF's preview: %v", err)
	}
	if err := f.svc.SetFileStaffOnly(ctx, staff, h, pic.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Thumb(ctx, cust, h, pic.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a hidden picture's preview for a customer: %v", err)
	}
}

// Parallel hide/show requests on one file all land, each with its entry in the same transaction: the file
// ends as the last entry says, and the customer's log holds exactly the "shown" entries.
func TestAttachmentStaffOnlyParallel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff, cust := f.staff(f.a), f.customer(f.a, "manager")
	h := f.holder(t, f.a, "Firewall", false)
	a := f.upload(t, staff, h, "regeln.pdf", pdf, false, nil)

	if err := f.svc.SetFileStaffOnly(ctx, cust, h, a.ID, true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a customer hides a file: %v", err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.svc.SetFileStaffOnly(ctx, staff, h, a.ID, i%2 == 0)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	hiddenN, shownN := f.audits(t, f.a.ID, "docs.attachment_hidden"), f.audits(t, f.a.ID, "docs.attachment_shown")
	if len(hiddenN) != n/2 || len(shownN) != n/2 {
		t.Fatalf("%d hidden and %d shown entries, want %d each", len(hiddenN), len(shownN), n/2)
	}
	lastHidden := hiddenN[0].ID > shownN[0].ID // newest first
	_, err := f.svc.Attachment(ctx, cust, h, a.ID)
	if lastHidden != errors.Is(err, ErrNotFound) {
		t.Fatalf("last entry says hidden=%v, the customer's read: %v", lastHidden, err)
	}
	if es := f.customerAudits(t, f.a.ID, "docs.attachment_hidden"); len(es) != 0 {
		t.Fatalf("hiding shows in the customer's log: %+v", es)
	}
	if es := f.customerAudits(t, f.a.ID, "docs.attachment_shown"); len(es) != n/2 {
		t.Fatalf("%d shown entries in the customer's log, want %d", len(es), n/2)
	}
}

// Deleting is staff's, audited once; parallel deletions of one file: one succeeds, the others find nothing.
func TestAttachmentDeleteOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	id, err := f.svc.SaveDocument(ctx, staff, 0, DocumentInput{Title: "Notfallplan", Body: "Ruhe bewahren."})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := f.svc.Document(ctx, staff, id)
	if err != nil {
		t.Fatal(err)
	}
	h := OnDocument(doc)
	a := f.upload(t, staff, h, "plan.pdf", pdf, false, nil)
	if err := f.svc.DeleteFile(ctx, f.customer(f.a, "manager"), h, a.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a customer deletes: %v", err)
	}
	const n = 8
	var wg sync.WaitGroup
	var ok, missing atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := f.svc.DeleteFile(ctx, staff, h, a.ID); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrNotFound):
				missing.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || missing.Load() != n-1 {
		t.Fatalf("%d deletions succeeded, %d found nothing", ok.Load(), missing.Load())
	}
	if es := f.audits(t, f.a.ID, "docs.attachment_delete"); len(es) != 1 || !strings.HasPrefix(es[0].Target, DocumentTarget(doc.ID, doc.Title)) {
		t.Fatalf("delete entries: %+v", es)
	}
}
