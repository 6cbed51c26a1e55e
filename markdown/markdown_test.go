package markdown

import (
	"strings"
	"testing"

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
