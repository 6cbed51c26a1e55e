// Portier's WebAuthn ceremony glue: the only hand-written script. Forms marked data-passkey are hidden in
// the HTML (without JavaScript a <noscript> text explains that passkeys need it); this script shows them
// and runs their ceremony:
//   1. POST the form (urlencoded) to its action: the server answers the ceremony options (JSON) and keeps
//      the challenge in the session;
//   2. navigator.credentials.create() or .get() with those options;
//   3. POST the authenticator's answer (JSON) to data-finish: the server answers {redirect} or {error}.
// No eval, no inline handlers: it works under the strict CSP and is loaded with the page's nonce.
(function () {
	"use strict";

	function toBytes(b64url) {
		var s = b64url.replace(/-/g, "+").replace(/_/g, "/");
		while (s.length % 4) s += "=";
		var bin = atob(s);
		var out = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
		return out.buffer;
	}

	function toB64url(buf) {
		var bytes = new Uint8Array(buf);
		var bin = "";
		for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
		return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	}

	function creationOptions(o) {
		var pk = o.publicKey;
		pk.challenge = toBytes(pk.challenge);
		pk.user.id = toBytes(pk.user.id);
		(pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
		return { publicKey: pk };
	}

	function requestOptions(o) {
		var pk = o.publicKey;
		pk.challenge = toBytes(pk.challenge);
		(pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
		var opts = { publicKey: pk };
		if (o.mediation) opts.mediation = o.mediation;
		return opts;
	}

	function extensions(cred) {
		try { return cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}; } catch (e) { return {}; }
	}

	function attestationJSON(cred) {
		var r = cred.response;
		var out = {
			id: cred.id,
			rawId: toB64url(cred.rawId),
			type: cred.type,
			authenticatorAttachment: cred.authenticatorAttachment || undefined,
			clientExtensionResults: extensions(cred),
			response: {
				clientDataJSON: toB64url(r.clientDataJSON),
				attestationObject: toB64url(r.attestationObject)
			}
		};
		if (typeof r.getTransports === "function") out.response.transports = r.getTransports();
		return out;
	}

	function assertionJSON(cred) {
		var r = cred.response;
		return {
			id: cred.id,
			rawId: toB64url(cred.rawId),
			type: cred.type,
			authenticatorAttachment: cred.authenticatorAttachment || undefined,
			clientExtensionResults: extensions(cred),
			response: {
				clientDataJSON: toB64url(r.clientDataJSON),
				authenticatorData: toB64url(r.authenticatorData),
				signature: toB64url(r.signature),
				userHandle: r.userHandle ? toB64url(r.userHandle) : undefined
			}
		};
	}

	function answer(resp) {
		return resp.json().catch(function () { return {}; }).then(function (data) {
			if (data.redirect) {
				window.location.assign(data.redirect);
				return null;
			}
			if (!resp.ok || data.error) throw new Error(data.error || "");
			return data;
		});
	}

	function showError(form, text) {
		var el = form.querySelector("[data-passkey-error]");
		if (!el) return;
		el.textContent = text || form.getAttribute("data-msg-failed") || "";
		el.hidden = false;
	}

	function run(form) {
		var mode = form.getAttribute("data-passkey");
		var button = form.querySelector("button[type=submit]");
		var errEl = form.querySelector("[data-passkey-error]");
		if (errEl) errEl.hidden = true;
		if (button) button.disabled = true;
		var done = function () { if (button) button.disabled = false; };
		fetch(form.action, {
			method: "POST",
			credentials: "same-origin",
			headers: { "Accept": "application/json" },
			body: new URLSearchParams(new FormData(form))
		}).then(answer).then(function (options) {
			if (!options) return null;
			if (mode === "register") return navigator.credentials.create(creationOptions(options)).then(attestationJSON);
			return navigator.credentials.get(requestOptions(options)).then(assertionJSON);
		}).then(function (body) {
			if (!body) return null;
			return fetch(form.getAttribute("data-finish"), {
				method: "POST",
				credentials: "same-origin",
				headers: { "Content-Type": "application/json", "Accept": "application/json" },
				body: JSON.stringify(body)
			}).then(answer);
		}).then(done, function (err) {
			done();
			// The server's words come as a plain Error; a cancelled or timed-out browser dialog
			// (NotAllowedError) and every other DOMException get the form's generic text.
			showError(form, err && err.name === "Error" ? err.message : "");
		});
	}

	function init() {
		var supported = !!(window.PublicKeyCredential && navigator.credentials);
		var forms = document.querySelectorAll("form[data-passkey]");
		for (var i = 0; i < forms.length; i++) {
			var form = forms[i];
			form.hidden = false;
			if (!supported) {
				var b = form.querySelector("button[type=submit]");
				if (b) b.disabled = true;
				showError(form, form.getAttribute("data-msg-unsupported"));
				continue;
			}
			form.addEventListener("submit", function (ev) {
				ev.preventDefault();
				run(ev.currentTarget);
			});
		}
	}

	if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
	else init();
})();
