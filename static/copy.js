// Portier: copy values to the clipboard, and hide revealed secrets again after a while.
// Loaded with the page's CSP nonce; no inline script, no eval.
//
// A copy button carries either data-copy-text (a value on the page: user name, SSID) or data-copy-url
// (a secret, fetched on click; the server audits that fetch as a reveal) and data-copy-confirm (told
// only after the clipboard took the value, so the access log says "copied" only then).
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
  function post(url) {
    return fetch(url, { method: "POST", credentials: "same-origin", cache: "no-store" });
  }
  function fetchSecret(url) {
    return post(url).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    });
  }
  // write puts the (possibly still pending) text on the clipboard. Safari accepts a clipboard write only
  // while the click is being handled, not after an await: a ClipboardItem built from the pending fetch
  // starts the write at once. Browsers without ClipboardItem (or refusing it) get writeText.
  function write(pending) {
    var clip = navigator.clipboard;
    var plain = function () { return pending.then(function (text) { return clip.writeText(text); }); };
    if (typeof window.ClipboardItem !== "function" || typeof clip.write !== "function") return plain();
    var item;
    try {
      item = new window.ClipboardItem({
        "text/plain": pending.then(function (text) { return new Blob([text], { type: "text/plain" }); })
      });
    } catch (e) {
      return plain();
    }
    return clip.write([item]).catch(function () { return plain(); });
  }
  function say(btn, text, failed) {
    var status = btn.parentNode.querySelector(".copy-status");
    if (!status) return;
    clearTimeout(btn._statusTimer);
    status.textContent = text;
    status.classList.toggle("copy-failed", !!failed);
    if (!failed) {
      btn._statusTimer = setTimeout(function () { status.textContent = ""; }, 3000);
    }
  }
  function copy(btn) {
    say(btn, "", false);
    var pending = btn.dataset.copyUrl ? fetchSecret(btn.dataset.copyUrl) : Promise.resolve(btn.dataset.copyText || "");
    pending.catch(function () {}); // reported through write's result
    write(pending).then(function () {
      say(btn, btn.dataset.copied, false);
      if (btn.dataset.copyConfirm) post(btn.dataset.copyConfirm).catch(function () {});
    }, function () {
      say(btn, btn.dataset.copyFailed, true);
    });
  }
  function init(root) {
    root.querySelectorAll(".secret, .doc-qr").forEach(function (box) {
      if (!box.dataset.original) box.dataset.original = box.innerHTML;
    });
    root.querySelectorAll("button.copy-button").forEach(function (btn) {
      if (btn.dataset.bound) return;
      btn.dataset.bound = "1";
      btn.hidden = !(navigator.clipboard && window.fetch && window.Promise);
      btn.addEventListener("click", function () { copy(btn); });
    });
    // Print buttons (documents): shown only where a script can print; the page's print CSS does the rest.
    root.querySelectorAll("button[data-print]").forEach(function (btn) {
      if (btn.dataset.bound) return;
      btn.dataset.bound = "1";
      btn.hidden = typeof window.print !== "function";
      btn.addEventListener("click", function () { window.print(); });
    });
    hideLater(root);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { hideLater(e.target); init(e.target); });
})();
