// The emergency handbook's "print" button: the browser's own print dialog (A4 layout in handbook.css).
// The button stays hidden without JavaScript; the browser's print menu works either way.
document.querySelectorAll('[data-print]').forEach(function (b) {
	b.hidden = false;
	b.addEventListener('click', function () { window.print(); });
});
