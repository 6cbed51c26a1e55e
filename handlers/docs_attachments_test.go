package handlers

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// uploadBody streams a multipart form (staff_only first, as the page sends it) from content.
func uploadBody(name string, content io.Reader, staffOnly bool) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		if staffOnly {
			mw.WriteField("staff_only", "1")
		}
		w, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(w, content)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

func (e *testEnv) upload(item, name string, content []byte, staffOnly bool) (*http.Response, string) {
	body, ct := uploadBody(name, bytes.NewReader(content), staffOnly)
	return e.do(http.MethodPost, item+"/attachments", body, map[string]string{"Content-Type": ct})
}

// fileIDs are the attachments the page shows, by name.
func fileIDs(t *testing.T, body string) map[string]string {
	out := map[string]string{}
	doc(t, body).Find(`[data-testid^="file-"] [data-testid="file-download"]`).Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		out[s.Text()] = href
	})
	return out
}

func TestAttachmentUploadDownloadAuditAndStaffOnly(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("Vertrag 0815 "), 9000)...) // > one chunk
	conf := []byte("hostname fw-01\ninterface wan0\n  ip address dhcp\n")
	f.as(f.tech)
	if resp, body := e.upload(fw, "Vertrag Provider.pdf", pdf, false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := e.upload(fw, `..\..\evil/running-config.txt`, conf, true); resp.StatusCode != 303 {
		t.Fatalf("upload staff-only: %d", resp.StatusCode)
	}
	// Refused by content: HTML (whatever its name) and unknown binaries; nothing stored.
	for name, content := range map[string][]byte{"note.txt": []byte("<html><script>alert(1)</script>"), "tool.pdf": {0x7f, 'E', 'L', 'F', 0, 1, 2}} {
		resp, _ := e.upload(fw, name, content, false)
		_, body := e.get(fw, nil)
		if resp.StatusCode != 303 || !strings.Contains(body, "Only PDFs, pictures") {
			t.Fatalf("%s not refused with a message: %d", name, resp.StatusCode)
		}
	}
	_, body := e.get(fw, nil)
	files := fileIDs(t, body)
	if len(files) != 2 || files["Vertrag Provider.pdf"] == "" || files["running-config.txt"] == "" {
		t.Fatalf("staff sees files %v", files)
	}
	resp, got := e.get(files["Vertrag Provider.pdf"], nil)
	if resp.StatusCode != 200 || got != string(pdf) {
		t.Fatalf("download: %d, %d bytes, identical %v", resp.StatusCode, len(got), got == string(pdf))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download headers: %v", resp.Header)
	}
	resp, _ = e.get(files["running-config.txt"], nil)
	if resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("text served as %q", resp.Header.Get("Content-Type"))
	}
	if resp, _ := e.get(files["running-config.txt"]+"/view", nil); resp.StatusCode != 404 {
		t.Fatalf("text shown inline: %d", resp.StatusCode)
	}
	resp, _ = e.get(files["Vertrag Provider.pdf"]+"/view", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline;") ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("PDF view: %d %v", resp.StatusCode, resp.Header)
	}

	// The customer: the PDF, not the staff-only configuration (not listed, not downloadable).
	f.as(f.viewer)
	_, body = e.get(fw, nil)
	cf := fileIDs(t, body)
	if len(cf) != 1 || cf["Vertrag Provider.pdf"] == "" || strings.Contains(body, "running-config") {
		t.Fatalf("customer sees %v", cf)
	}
	if resp, _ := e.get(files["running-config.txt"], nil); resp.StatusCode != 404 {
		t.Fatalf("customer downloads a staff-only file: %d", resp.StatusCode)
	}
	if resp, got := e.get(cf["Vertrag Provider.pdf"], nil); resp.StatusCode != 200 || got != string(pdf) {
		t.Fatalf("customer download: %d", resp.StatusCode)
	}
	if resp, _ := e.upload(fw, "x.txt", conf, false); resp.StatusCode != 404 {
		t.Fatalf("customer uploads: %d", resp.StatusCode)
	}
	// Every download is audited; the customer's manager reads the viewer's and the technician's download
	// and view of the PDF in the access log, and nothing about the staff-only file.
	if n := len(auditOf(t, e, f.a.ID, f.viewer.ID, "docs.download")); n != 1 {
		t.Fatalf("viewer downloads audited: %d", n)
	}
	f.as(f.mgr)
	_, body = e.get("/o/alpha/audit", nil)
	rows := doc(t, body).Find(`[data-testid=audit-row][data-action="docs.download"]`)
	if rows.Length() != 3 || !strings.Contains(rows.Text(), "File downloaded") || !strings.Contains(rows.Text(), "Vertrag Provider.pdf") || strings.Contains(body, "running-config") {
		t.Fatalf("access log: downloads %d, config mentioned %v", rows.Length(), strings.Contains(body, "running-config"))
	}
	// Another organisation's customer, and another organisation's route, find nothing.
	f.as(f.stranger)
	if resp, _ := e.get(files["Vertrag Provider.pdf"], nil); resp.StatusCode != 404 {
		t.Fatalf("stranger: %d", resp.StatusCode)
	}
	f.as(f.tech)
	other := strings.Replace(files["Vertrag Provider.pdf"], fmt.Sprint(f.items["configurations"]), fmt.Sprint(f.items["contacts"]), 1)
	other = strings.Replace(other, "configurations", "contacts", 1)
	if resp, _ := e.get(other, nil); resp.StatusCode != 404 {
		t.Fatalf("file through another item: %d", resp.StatusCode)
	}
	// Staff hide the PDF: the customer loses it.
	id := files["Vertrag Provider.pdf"]
	if resp, _ := e.post(id+"/staff-only", map[string][]string{"staff_only": {"1"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("hide: %d", resp.StatusCode)
	}
	f.as(f.viewer)
	if resp, _ := e.get(id, nil); resp.StatusCode != 404 {
		t.Fatalf("hidden file still downloadable: %d", resp.StatusCode)
	}
	// Deleted for good.
	f.as(f.tech)
	if resp, _ := e.post(id+"/delete", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := e.get(id, nil); resp.StatusCode != 404 {
		t.Fatalf("deleted file: %d", resp.StatusCode)
	}
}

func TestAttachmentPictureGetsAReencodedPreview(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := 0; x < 300; x++ {
		for y := 0; y < 200; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 99, 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	buf.WriteString("tEXtMARKER-im-original") // bytes after IEND: kept by the file, never by a preview
	f.as(f.tech)
	if resp, _ := e.upload(fw, "rack.png", buf.Bytes(), false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	_, body := e.get(fw, nil)
	src, ok := doc(t, body).Find(`img.file-thumb`).Attr("src")
	if !ok {
		t.Fatal("no preview")
	}
	resp, thumb := e.get(src, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || strings.Contains(thumb, "MARKER-im-original") || thumb == buf.String() {
		t.Fatalf("preview: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(thumb)); err != nil || cfg.Width > 256 {
		t.Fatalf("preview is not a small PNG: %v %v", cfg, err)
	}
	f.as(f.stranger)
	if resp, _ := e.get(src, nil); resp.StatusCode != 404 {
		t.Fatalf("stranger gets the preview: %d", resp.StatusCode)
	}
}

func TestAttachmentSizeLimitOnTheUploadRouteOnly(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	e.srv.cfg.AttachmentMax = 5 << 20
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	// 4 MB passes the upload route (elsewhere multipart bodies stop at 3 MB) ...
	four := bytes.Repeat([]byte("abcdefgh\n"), 4<<20/9)
	if resp, _ := e.upload(fw, "four.txt", four, false); resp.StatusCode != 303 {
		t.Fatalf("4 MB: %d", resp.StatusCode)
	}
	_, body := e.get(fw, nil)
	if len(fileIDs(t, body)) != 1 {
		t.Fatal("4 MB file not stored")
	}
	body2, ct := uploadBody("x.csv", bytes.NewReader(four), false)
	if resp, _ := e.do(http.MethodPost, "/o/alpha/import/contacts", body2, map[string]string{"Content-Type": ct}); resp.StatusCode != 413 {
		t.Fatalf("another multipart route takes 4 MB: %d", resp.StatusCode)
	}
	// ... 6 MB does not, and leaves nothing behind.
	six := bytes.Repeat([]byte("abcdefgh\n"), 6<<20/9)
	resp, _ := e.upload(fw, "six.txt", six, false)
	_, body = e.get(fw, nil)
	if resp.StatusCode == 303 && !strings.Contains(body, "larger than 5 MB") || resp.StatusCode != 303 && resp.StatusCode != 413 {
		t.Fatalf("6 MB: %d", resp.StatusCode)
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM doc_attachment_chunks c JOIN doc_attachments a ON a.id = c.attachment_id WHERE a.name = 'six.txt'`).Scan(&n)
	if len(fileIDs(t, body)) != 1 || n != 0 {
		t.Fatalf("refused upload left %d chunks", n)
	}
}

// TestAttachment25MBStreamsWithBoundedMemory uploads and downloads a 25 MB file through the real router:
// the client streams it from a pipe and reads the answer as it comes, so what the process holds is the
// server's working set. Peak heap (sampled) must stay far below the file's size.
func TestAttachment25MBStreamsWithBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("25 MB through the router")
	}
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	const size = 25 << 20
	gen := func() io.Reader { return io.LimitReader(&pattern{}, size) }

	// With the collector's default target (heap may reach twice what is live) the sample would mostly
	// measure garbage; a low target makes heap in use follow what is actually held.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	// Start the kernel's peak resident size afresh (Linux: 5 > clear_refs), so VmHWM is this test's peak.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	rssBefore := procStatus("VmRSS")
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	body, ct := uploadBody("big.txt", gen(), false)
	start := time.Now()
	resp, _ := e.do(http.MethodPost, fw+"/attachments", body, map[string]string{"Content-Type": ct})
	up := time.Since(start)
	if resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	_, page := e.get(fw, nil)
	href := fileIDs(t, page)["big.txt"]
	req, _ := http.NewRequest(http.MethodGet, e.URL(href), nil)
	start = time.Now()
	dl, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	same, n := compareStream(dl.Body, gen())
	dl.Body.Close()
	down := time.Since(start)
	close(stop)
	wg.Wait()
	if !same || n != size || dl.Header.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("downloaded %d bytes, identical %v", n, same)
	}
	grew := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("25 MB: upload %v, download %v; heap in use before %.1f MB, peak %.1f MB (+%.1f MB); RSS before %s, peak RSS (VmHWM) %s",
		up.Round(time.Millisecond), down.Round(time.Millisecond), mb(base.HeapInuse), mb(peak.Load()), float64(grew)/(1<<20), rssBefore, procStatus("VmHWM"))
	if grew > 8<<20 {
		t.Fatalf("heap grew by %.1f MB for a 25 MB file: not streamed", float64(grew)/(1<<20))
	}
	var stored int64
	e.db.R.QueryRow(`SELECT sum(length(sealed)) FROM doc_attachment_chunks`).Scan(&stored)
	if stored < size {
		t.Fatalf("stored %d bytes", stored)
	}
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// procStatus reads a memory figure of the process as Linux counts it (VmRSS, VmHWM: peak resident size).
func procStatus(key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			return strings.TrimSpace(strings.TrimPrefix(l, key+":"))
		}
	}
	return "unknown"
}

// pattern is an endless text that is the same on every read from the start.
type pattern struct{ n int }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = "0123456789 Portier\n"[p.n%19]
		p.n++
	}
	return len(b), nil
}

func compareStream(a, b io.Reader) (bool, int64) {
	ba, bb := make([]byte, 32<<10), make([]byte, 32<<10)
	var n int64
	for {
		na, ea := io.ReadFull(a, ba)
		nb, _ := io.ReadFull(b, bb[:na])
		if nb != na || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, n + int64(na)
		}
		n += int64(na)
		if ea != nil {
			_, eb := b.Read(bb[:1])
			return eb == io.EOF, n
		}
	}
}

// A client that sends the staff-only box after the file (the page sends it first): the file is never
// visible to the customer, and neither is its audit entry.
func TestAttachmentStaffOnlyAfterTheFile(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "late.txt")
	w.Write([]byte("staff only, said late\n"))
	mw.WriteField("staff_only", "1")
	mw.Close()
	f.as(f.tech)
	if resp, _ := e.do(http.MethodPost, fw+"/attachments", &buf, map[string]string{"Content-Type": mw.FormDataContentType()}); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	_, body := e.get(fw, nil)
	if len(fileIDs(t, body)) != 1 || doc(t, body).Find(`[data-testid="file-staff-only"]`).Length() != 1 {
		t.Fatal("file not stored as staff-only")
	}
	f.as(f.mgr)
	_, body = e.get(fw, nil)
	if strings.Contains(body, "late.txt") {
		t.Fatal("customer sees the file")
	}
	_, body = e.get("/o/alpha/audit", nil)
	if strings.Contains(body, "late.txt") {
		t.Fatal("customer's access log names the staff-only file")
	}
}
