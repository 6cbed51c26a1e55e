package markdown

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// What a document may hold that must not act on the page: script tags, event handlers, raw HTML,
// javascript:/vbscript:/data: addresses (also spelt with mixed case, spaces or entities).
func TestRenderIsHarmless(t *testing.T) {
	src := "<script>alert(1)</script>\n\n" +
		"Text <b onclick=\"alert(2)\">fett</b> <img src=x onerror=alert(3)>\n\n" +
		"<iframe src=\"https://evil.example\"></iframe>\n\n" +
		"[a](javascript:alert(4)) [b](JaVaScRiPt:alert(5)) [c]( javascript:alert(6)) [d](java&#x73;cript:alert(7)) " +
		"[e](vbscript:msgbox) [f](data:text/html;base64,PHNjcmlwdD4=) [g](file:///etc/passwd) [h](ms-settings:x) " +
		"<javascript:alert(8)> ![i](javascript:alert(9))\n\n" +
		"[ok](https://example.com/x) [rel](/o/alpha/articles) [mail](mailto:it@example.com) https://auto.example\n"
	html, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(html)
	for _, bad := range []string{"<script", "onclick", "onerror", "<iframe", "href=\"javascript", "vbscript:", "data:text", "file:", "ms-settings", "<b "} {
		if strings.Contains(lower, bad) {
			t.Errorf("rendered HTML holds %q:\n%s", bad, html)
		}
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	hrefs := map[string]bool{}
	d.Find("a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		hrefs[href] = true
		if rel, _ := a.Attr("rel"); rel != "noopener noreferrer" {
			t.Errorf("link %q has rel %q", href, rel)
		}
	})
	d.Find("img").Each(func(_ int, img *goquery.Selection) {
		if src, _ := img.Attr("src"); src != "" {
			t.Errorf("image kept address %q", src)
		}
	})
	for _, want := range []string{"https://example.com/x", "/o/alpha/articles", "mailto:it@example.com", "https://auto.example"} {
		if !hrefs[want] {
			t.Errorf("safe link %q missing; links: %v", want, hrefs)
		}
	}
	for h := range hrefs {
		if !strings.HasPrefix(h, "https://") && !strings.HasPrefix(h, "/") && !strings.HasPrefix(h, "mailto:") {
			t.Errorf("unexpected link %q kept", h)
		}
	}
	// A refused link stays as its text, not as a link to nowhere.
	text := d.Text()
	for _, w := range []string{"a b c d e f g h", "javascript:alert(8)"} {
		if !strings.Contains(text, w) {
			t.Errorf("text %q of a refused link lost: %q", w, text)
		}
	}
}

func TestRenderFormatting(t *testing.T) {
	html, err := Render("# Internet weg\n\n1. Router neu starten\n2. Hotline **0800 123**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1", "Internet weg</h1>", "<ol>", "<strong>0800 123</strong>", "<table>"} {
		if !strings.Contains(html, want) {
			t.Errorf("missing %q in %s", want, html)
		}
	}
}

func TestDiff(t *testing.T) {
	got := Diff("a\nb\nc\nd\n", "a\nc\nd2\nd\ne")
	var b strings.Builder
	for _, l := range got {
		b.WriteString([]string{" ", "+", "-"}[l.Op] + l.Text + "\n")
	}
	want := " a\n-b\n c\n+d2\n d\n+e\n"
	if b.String() != want {
		t.Errorf("diff:\n%s\nwant:\n%s", b.String(), want)
	}
	if d := Diff("", "x"); len(d) != 1 || d[0].Op != Added {
		t.Errorf("from nothing: %+v", d)
	}
	// Too large for the table: still a correct (coarse) diff.
	big := strings.Repeat("x\n", 2100)
	if d := Diff(big+"a", big[:len(big)-2]+"y\nb"); len(d) == 0 {
		t.Error("empty diff")
	}
}

// Documents of at most MaxLen built to make the renderer work: each must render in well under a second
// into HTML of a bounded size. Before the bounds, the table took gigabytes (a 12 KB version of it gave
// 9 MB of HTML), and the nestings and link openings 2–4 seconds of CPU per page view.
func TestRenderOfHostileDocumentsIsBounded(t *testing.T) {
	var wide strings.Builder
	wide.WriteString(strings.Repeat("|a", 3000) + "\n" + strings.Repeat("|-", 3000) + "\n")
	for wide.Len() < MaxLen-3 {
		wide.WriteString("|x\n")
	}
	cases := map[string]string{
		"wide table":          wide.String(),
		"nested quotes":       strings.Repeat(">", MaxLen-1) + "a",
		"nested quotes, sp":   strings.Repeat("> ", MaxLen/2-1) + "a",
		"nested lists":        strings.Repeat("+ ", MaxLen/2-1) + "a",
		"nested ordered":      strings.Repeat("1. ", MaxLen/3-1) + "a",
		"unclosed links":      strings.Repeat("[a](", MaxLen/4),
		"quotes in lists":     strings.Repeat("> + ", MaxLen/4-1) + "a",
		"many small tables":   strings.Repeat("|a|b|c|d|\n|-|-|-|-|\n|1|2|3|4|\n\n", MaxLen/40),
		"table of many lines": "|a|b|\n|-|-|\n" + strings.Repeat("|1|2|\n", (MaxLen-12)/6),
	}
	for name, src := range cases {
		if len(src) > MaxLen {
			t.Fatalf("%s: %d bytes, more than a document may hold", name, len(src))
		}
		start := time.Now()
		out, err := Render(src)
		took := time.Since(start)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if took > 500*time.Millisecond || len(out) > 2<<20 {
			t.Errorf("%s: %d bytes in, %d bytes of HTML in %v", name, len(src), len(out), took)
		}
		if strings.Contains(out, "<script") {
			t.Errorf("%s: script in the fallback", name)
		}
	}
	// What people write still renders as tables and nested lists.
	html, err := Render("|a|b|\n|-|-|\n|1|2|\n\n- eins\n  - zwei\n    > drei\n\n1. a\n   1. b\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<table>", "<td>2</td>", "<li>zwei", "<blockquote>", "<ol>"} {
		if !strings.Contains(html, want) {
			t.Errorf("ordinary document lacks %q:\n%s", want, html)
		}
	}
	// A document too complex to format shows its text, escaped.
	html, _ = Render(strings.Repeat("> ", 40) + "<script>alert(1)</script> [x](javascript:alert(2))")
	if !strings.HasPrefix(html, "<pre>") || strings.Contains(html, "<script") || !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("fallback: %s", html)
	}
}

// More ways to smuggle a script address or markup through: reference definitions, entities that decode
// to "javascript:", autolinks, backslash escapes, control characters inside the scheme, images.
func TestRenderRefusesSmuggledSchemes(t *testing.T) {
	src := "[r1][a] [r2][b] [r3][c] ![r4][d]\n\n" +
		"[a]: javascript:alert(1)\n[b]: &#106;avascript&colon;alert(2)\n[c]: <java&#x09;script:alert(3)>\n[d]: data:image/svg+xml,<svg/onload=alert(4)>\n\n" +
		"[e](javascript\\:alert(5)) [f](&#x4A;&#x41;VASCRIPT:alert(6)) [g](jav&NewLine;ascript:alert(7)) [h](%6Aavascript:alert(8)) " +
		"[i](vbscript&#58;x) <vbscript:x> <data:text/html,x> ![j](&#100;ata:image/png;base64,AAAA) " +
		"[k](\u0001javascript:alert(9)) www.example.com <it@example.com>\n"
	out, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	d.Find("[href], [src]").Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"href", "src"} {
			v, ok := s.Attr(attr)
			if !ok || v == "" {
				continue
			}
			// goquery gives the attribute as the browser reads it (entities decoded).
			lv := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, v))
			if !strings.HasPrefix(lv, "http://") && !strings.HasPrefix(lv, "https://") && !strings.HasPrefix(lv, "mailto:") &&
				!strings.HasPrefix(lv, "/") && !strings.HasPrefix(lv, "%6a") {
				t.Errorf("%s=%q kept:\n%s", attr, v, out)
			}
		}
	})
}

// A picture is never loaded by the reader's browser on its own: it becomes a link to its address (the
// reader's choice to follow), and the links after it are still checked.
func TestPicturesBecomeLinks(t *testing.T) {
	out, err := Render("![Übersicht](/o/alpha/export/passwords) [weiter](javascript:alert(1)) " +
		"[![Logo](https://example.com/logo.png)](https://example.com) ![Bild](data:image/png;base64,AAAA)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Find("img").Length(); n != 0 {
		t.Fatalf("%d pictures rendered as images: %s", n, out)
	}
	a := d.Find(`a[href="/o/alpha/export/passwords"]`)
	if a.Length() != 1 || a.Text() != "Übersicht" || a.AttrOr("rel", "") != "noopener noreferrer" {
		t.Fatalf("the picture did not become a link to its address: %s", out)
	}
	for _, bad := range []string{"javascript:", "data:"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q kept: %s", bad, out)
		}
	}
	if d.Find(`a[href="https://example.com"]`).Text() != "Logo" || d.Find("a a").Length() != 0 {
		t.Errorf("a picture inside a link: %s", out)
	}
	if !strings.Contains(d.Text(), "Bild") || !strings.Contains(d.Text(), "weiter") {
		t.Errorf("refused addresses lost their text: %s", out)
	}
}
