package testkit

import (
	"github.com/chromedp/cdproto/emulation"
)

// SetViewport lays the current page out again at width×height CSS pixels, without reloading it, and
// hides the scrollbars as a phone does (so the layout width is the full width).
func (b *BrowserT) SetViewport(width, height int) {
	b.t.Helper()
	call(b, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(width), Height: int64(height), DeviceScaleFactor: 1,
	})
	call(b, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true})
}

// overflowJS returns "" when the page does not scroll sideways, else the widths and the elements that
// stick out on the right (the innermost last), so a failure says what to fix.
const overflowJS = `(() => {
	const w = window.innerWidth, sw = document.documentElement.scrollWidth;
	if (sw <= w) return "";
	const out = [];
	// Elements inside a box that scrolls or clips sideways do not widen the page: skip them.
	const clipped = (el) => {
		for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
			if (getComputedStyle(p).overflowX !== "visible") return true;
		}
		return false;
	};
	for (const el of document.querySelectorAll("body *")) {
		const r = el.getBoundingClientRect();
		if (r.width > 0 && r.right > w + 0.5 && !clipped(el)) {
			let name = el.tagName.toLowerCase();
			if (el.id) name += "#" + el.id;
			if (typeof el.className === "string" && el.className.trim()) name += "." + el.className.trim().split(/\s+/).join(".");
			const tid = el.getAttribute("data-testid");
			if (tid) name += "[" + tid + "]";
			out.push(name + " right=" + Math.round(r.right));
		}
	}
	return "scrollWidth " + sw + " > innerWidth " + w + "; sticking out: " + out.slice(-8).join(", ");
})()`

// Overflow reports why the current page scrolls sideways, or "" when it fits its width.
func (b *BrowserT) Overflow() string {
	b.t.Helper()
	return Eval[string](b, overflowJS)
}

// CheckFits fails the test when the current page is wider than the window
// (document.documentElement.scrollWidth > innerWidth), naming what sticks out.
func (b *BrowserT) CheckFits() {
	b.t.Helper()
	if why := b.Overflow(); why != "" {
		b.t.Errorf("%s scrolls sideways: %s", b.Location(), why)
	}
}
