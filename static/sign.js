// Signs a canonical message in the browser. A signing box (`.signer`)
// shows the exact message in `pre.message` and names its form in
// `data-form`; the key file the person picks
// (the 64 hex characters `anchorfin key gen` writes: an ed25519 seed) is
// read here, imported into WebCrypto as a non-extractable Ed25519 key, and
// used to sign the message's UTF-8 bytes. Only the signature (hex) goes
// into the form: the file input has no name and sits outside the form, so
// the key never leaves the page. Without JavaScript the form still works
// with a signature pasted from `anchorfin sign`.
"use strict";

(function () {
  // PKCS #8 wrapping of an Ed25519 seed (RFC 8410): the fixed prefix, then
  // the 32 bytes.
  const PKCS8_PREFIX = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
    0x04, 0x22, 0x04, 0x20,
  ];

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (byte) =>
      byte.toString(16).padStart(2, "0"),
    ).join("");
  }

  function seedOf(text) {
    const trimmed = text.trim();
    if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) {
      return null;
    }
    const seed = new Uint8Array(32);
    for (let i = 0; i < 32; i += 1) {
      seed[i] = parseInt(trimmed.slice(2 * i, 2 * i + 2), 16);
    }
    return seed;
  }

  async function sign(seed, message) {
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
    pkcs8.set(PKCS8_PREFIX);
    pkcs8.set(seed, PKCS8_PREFIX.length);
    const key = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "Ed25519" },
      false,
      ["sign"],
    );
    seed.fill(0);
    pkcs8.fill(0);
    const bytes = new TextEncoder().encode(message);
    return hex(await crypto.subtle.sign({ name: "Ed25519" }, key, bytes));
  }

  function setUp(box) {
    const form = document.getElementById(box.dataset.form);
    const message = box.querySelector("pre.message");
    const chooser = box.querySelector(".key-picker");
    const picker = box.querySelector("input.key-file");
    const status = box.querySelector(".sign-status");
    const signature = form && form.querySelector("input[name=signature]");
    if (!form || !message || !chooser || !picker || !status || !signature) {
      return;
    }
    chooser.hidden = false;
    picker.addEventListener("change", async () => {
      const file = picker.files && picker.files[0];
      picker.value = "";
      if (!file) {
        return;
      }
      status.className = "sign-status";
      status.textContent = box.dataset.signing;
      try {
        const seed = seedOf(await file.text());
        if (!seed) {
          status.className = "sign-status failed";
          status.textContent = box.dataset.badKey;
          return;
        }
        signature.value = await sign(seed, message.textContent);
        status.className = "sign-status done";
        status.textContent = box.dataset.signed;
        form.querySelector("button[type=submit]").focus();
      } catch (error) {
        status.className = "sign-status failed";
        status.textContent = box.dataset.failed + " " + error;
      }
    });
  }

  document.querySelectorAll(".signer").forEach(setUp);
})();
