// Portier: copy a secret to the clipboard, and hide revealed secrets again after a while.
// Loaded with the page's CSP nonce; no inline script, no eval.
(function () {
  "use strict";
  function hideLater(root) {
    root.querySelectorAll("[data-hide-after]").forEach(function (el) {
      if (el.dataset.hideScheduled) return;
      el.dataset.hideScheduled = "1";
      var secs = parseInt(el.dataset.hideAfter, 10) || 30;
      setTimeout(function () {
        var box = el.closest(".secret, .doc-qr, section, dd") || el.parentNode;
        if (box && box.dataset.original) { box.innerHTML = box.dataset.original; init(box); } else { el.remove(); }
      }, secs * 1000);
    });
  }
  function init(root) {
    root.querySelectorAll(".secret, .doc-qr").forEach(function (box) {
      if (!box.dataset.original) box.dataset.original = box.innerHTML;
    });
    root.querySelectorAll("button.copy-secret").forEach(function (btn) {
      if (btn.dataset.bound) return;
      btn.dataset.bound = "1";
      btn.hidden = !(navigator.clipboard && window.fetch);
      btn.addEventListener("click", function () {
        var label = btn.textContent;
        fetch(btn.dataset.copyUrl, { method: "POST", credentials: "same-origin", cache: "no-store" })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
          .then(function (text) { return navigator.clipboard.writeText(text); })
          .then(function () {
            btn.textContent = btn.dataset.copied;
            setTimeout(function () { btn.textContent = label; }, 2000);
          })
          .catch(function () { btn.textContent = label; });
      });
    });
    hideLater(root);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { hideLater(e.target); init(e.target); });
})();
