package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
)

// PrintToPDF prints the current page as Chromium's print dialog would (A4 portrait unless the page's CSS
// says otherwise, @page size and margins honoured) and returns the PDF.
func (b *BrowserT) PrintToPDF() []byte {
	b.t.Helper()
	yes := true
	res := call(b, page.PrintToPDF, page.PrintToPDFParams{
		PaperWidth: 8.27, PaperHeight: 11.69, // A4 in inches
		PreferCSSPageSize: &yes,
	})
	return res.Data
}

// PDFPages returns the text of each page of a PDF, as poppler's pdftotext reads it (Debian package
// poppler-utils). Without pdftotext the test is skipped, or fails when CI=true (the README's test command
// installs it).
func PDFPages(t testing.TB, pdf []byte) []string {
	t.Helper()
	exe, err := exec.LookPath("pdftotext")
	if err != nil {
		const msg = "pdftotext not found (Debian package poppler-utils)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; run the README test command which installs it")
		}
		t.Skip(msg + "; skipping the PDF check")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "page.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "-enc", "UTF-8", "-layout", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(string(out), "\f")
	if n := len(pages); n > 0 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1]
	}
	return pages
}
