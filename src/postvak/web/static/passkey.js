// Passkey ceremonies for forms marked data-passkey="register" or "login": fetch options,
// ask the browser's authenticator, post the answer back. Without JavaScript the TOTP path remains:
// pages render these forms `hidden`, and only a browser that can do WebAuthn shows them.
"use strict";

(function () {
  const b64url = {
    decode(text) {
      const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
      return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
    },
    encode(buffer) {
      const bytes = String.fromCharCode(...new Uint8Array(buffer));
      return btoa(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };

  function publicKeyOptions(options) {
    options.challenge = b64url.decode(options.challenge);
    if (options.user) options.user.id = b64url.decode(options.user.id);
    for (const list of [options.excludeCredentials, options.allowCredentials]) {
      for (const item of list || []) item.id = b64url.decode(item.id);
    }
    return options;
  }

  function credentialJson(credential) {
    const response = {};
    for (const name of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
      if (credential.response[name]) response[name] = b64url.encode(credential.response[name]);
    }
    if (credential.response.getTransports) response.transports = credential.response.getTransports();
    return JSON.stringify({
      id: credential.id,
      rawId: b64url.encode(credential.rawId),
      type: credential.type,
      response,
      clientExtensionResults: credential.getClientExtensionResults(),
    });
  }

  async function run(form) {
    const status = form.querySelector("[data-passkey-status]");
    const csrf = form.querySelector("input[name=csrf_token]").value;
    const body = new URLSearchParams({ csrf_token: csrf });
    const answer = await fetch(form.dataset.optionsUrl, { method: "POST", body, credentials: "same-origin" });
    // The server asks for the password first (the log-in is a while ago): go there, it comes back.
    if (answer.redirected && new URL(answer.url).origin === window.location.origin) {
      window.location.assign(answer.url);
      return;
    }
    if (!answer.ok) throw new Error("options");
    const options = publicKeyOptions(await answer.json());
    const credential = form.dataset.passkey === "register"
      ? await navigator.credentials.create({ publicKey: options })
      : await navigator.credentials.get({ publicKey: options });
    form.querySelector("input[name=credential]").value = credentialJson(credential);
    if (status) status.textContent = "";
    form.submit();
  }

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    if (!window.PublicKeyCredential) {
      form.hidden = true;
      continue;
    }
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      if (form.querySelector("input[name=credential]").value) return;
      event.preventDefault();
      run(form).catch(() => {
        const status = form.querySelector("[data-passkey-status]");
        if (status) status.textContent = status.dataset.failed;
      });
    });
  }
})();
