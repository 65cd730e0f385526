// The ledger page's Check buttons: checks an entry in the browser with
// WebCrypto alone, trusting nothing the server says but the platform
// public key and log origin the page states (data- attributes of
// #entries, which also carry every text shown, in the reader's language):
//
// 1. the latest signed tree head (GET /v1/ledger/head) is a C2SP signed
//    note whose signature line, by that key under that origin, verifies
//    with Ed25519 over the note text exactly (src/ledger/checkpoint.rs);
// 2. the entry's bytes (GET /v1/ledger/entries) hash to the leaf hash the
//    row shows: SHA-256(0x00 || entry);
// 3. its inclusion proof at the signed tree size
//    (GET /v1/ledger/proofs/inclusion) leads to the signed root hash, by
//    RFC 9162 section 2.1.3.2.
//
// Loaded with `defer`; without JavaScript the rows keep their proof links.
// Under Node (tests/browser/ledger.mjs) it exports the checks instead.
"use strict";
(function () {
  var subtle = globalThis.crypto && globalThis.crypto.subtle;

  /** A check that failed, with the reason's key (data-reason-<key>). */
  function Refusal(reason) {
    this.reason = reason;
  }

  function hexToBytes(text) {
    if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) {
      return null;
    }
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i++) {
      bytes[i] = parseInt(text.substr(i * 2, 2), 16);
    }
    return bytes;
  }

  function bytesToHex(bytes) {
    return Array.prototype.map
      .call(bytes, function (byte) {
        return (byte < 16 ? "0" : "") + byte.toString(16);
      })
      .join("");
  }

  /** Padded standard base64 only, as the server writes it; else null. */
  function base64ToBytes(text) {
    if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      return null;
    }
    var binary;
    try {
      binary = atob(text);
    } catch (error) {
      return null;
    }
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function concat(parts) {
    var length = parts.reduce(function (sum, part) {
      return sum + part.length;
    }, 0);
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (part) {
      out.set(part, offset);
      offset += part.length;
    });
    return out;
  }

  function equal(left, right) {
    if (left.length !== right.length) {
      return false;
    }
    for (var i = 0; i < left.length; i++) {
      if (left[i] !== right[i]) {
        return false;
      }
    }
    return true;
  }

  function utf8(text) {
    return new TextEncoder().encode(text);
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }

  /** RFC 9162 section 2.1.1: a leaf is SHA-256(0x00 || entry). */
  function leafHash(entry) {
    return sha256(concat([Uint8Array.of(0), entry]));
  }

  function nodeHash(left, right) {
    return sha256(concat([Uint8Array.of(1), left, right]));
  }

  /**
   * RFC 9162 section 2.1.3.2, step by step: the root that `proof` (an array
   * of 32-byte hashes) leads to from the leaf `hash` at `index` (a BigInt)
   * in a tree of `size` (a BigInt) leaves. BigInt, because JavaScript's
   * bit operators cut numbers to 32 bits. Throws a Refusal where the RFC
   * says "fail the proof verification" before comparing roots.
   */
  async function rootFromInclusionProof(hash, index, size, proof) {
    var malformed = new Refusal("malformed-proof");
    // Step 1.
    if (index >= size || hash.length !== 32) {
      throw malformed;
    }
    // Steps 2 and 3.
    var fn = index;
    var sn = size - 1n;
    var r = hash;
    // Step 4.
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (p.length !== 32 || sn === 0n) {
        throw malformed;
      }
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    // Step 5, first half: the caller compares r with the root.
    if (sn !== 0n) {
      throw malformed;
    }
    return r;
  }

  /**
   * A checkpoint's note text, as src/ledger/checkpoint.rs writes it: the
   * origin, the size in canonical decimal, the root hash in base64, then
   * extension lines, one of them `timestamp <ms>`; each line ends in "\n".
   */
  function parseCheckpoint(text) {
    var malformed = new Refusal("malformed-head");
    if (text.slice(-1) !== "\n") {
      throw malformed;
    }
    var lines = text.slice(0, -1).split("\n");
    if (lines.length < 4 || lines[0] === "" || !/^(0|[1-9][0-9]*)$/.test(lines[1])) {
      throw malformed;
    }
    var root = base64ToBytes(lines[2]);
    if (root === null || root.length !== 32) {
      throw malformed;
    }
    var timestamp = null;
    lines.slice(3).forEach(function (line) {
      if (line === "") {
        throw malformed;
      }
      var match = /^timestamp (-?[0-9]+)$/.exec(line);
      if (match) {
        timestamp = match[1];
      }
    });
    if (timestamp === null) {
      throw malformed;
    }
    return { origin: lines[0], size: BigInt(lines[1]), rootHash: root, timestampMs: timestamp };
  }

  /**
   * Opens a C2SP signed note with the Ed25519 `publicKey` (32 bytes) named
   * `origin`: the signature line "\u2014 <origin> <base64(key id || sig)>"
   * whose key id is SHA-256(origin || "\n" || 0x01 || key)[0..4] must verify
   * over the text before the blank line. Returns the checkpoint and the
   * signature's 64 bytes.
   */
  async function openCheckpoint(note, origin, publicKey) {
    var split = typeof note === "string" ? note.indexOf("\n\n") : -1;
    if (split < 0) {
      throw new Refusal("no-signature");
    }
    var text = note.slice(0, split + 1);
    var keyId = (await sha256(concat([utf8(origin + "\n"), Uint8Array.of(1), publicKey]))).slice(0, 4);
    var prefix = "\u2014 " + origin + " ";
    var signature = null;
    note
      .slice(split + 2)
      .split("\n")
      .forEach(function (line) {
        var blob = signature === null && line.indexOf(prefix) === 0 ? base64ToBytes(line.slice(prefix.length)) : null;
        if (blob !== null && blob.length === 68 && equal(blob.slice(0, 4), keyId)) {
          signature = blob.slice(4);
        }
      });
    if (signature === null) {
      throw new Refusal("no-signature");
    }
    var key;
    try {
      key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (error) {
      throw new Refusal("unsupported");
    }
    if (!(await subtle.verify({ name: "Ed25519" }, key, signature, utf8(text)))) {
      throw new Refusal("bad-signature");
    }
    var checkpoint = parseCheckpoint(text);
    if (checkpoint.origin !== origin) {
      throw new Refusal("wrong-origin");
    }
    return { checkpoint: checkpoint, signature: signature };
  }

  async function getJson(path) {
    var response;
    try {
      response = await fetch(path, { credentials: "omit", cache: "no-store", headers: { Accept: "application/json" } });
      if (response.ok) {
        return await response.json();
      }
    } catch (error) {
      // Offline, or not JSON: said below.
    }
    throw new Refusal("unreadable");
  }

  /** Checks the entry at `index` (a Number) that the page shows with `shownLeafHash` (hex). */
  async function checkEntry(index, shownLeafHash, origin, publicKey) {
    var head = await getJson("/v1/ledger/head");
    var opened = await openCheckpoint(head.checkpoint, origin, publicKey);
    var checkpoint = opened.checkpoint;
    // The head's other fields are conveniences; they must say what the note signs.
    if (
      head.signature !== bytesToHex(opened.signature) ||
      head.root_hash !== bytesToHex(checkpoint.rootHash) ||
      String(head.tree_size) !== checkpoint.size.toString()
    ) {
      throw new Refusal("head-mismatch");
    }
    if (BigInt(index) >= checkpoint.size) {
      throw new Refusal("not-in-tree");
    }
    var page = await getJson("/v1/ledger/entries?start=" + index + "&end=" + (index + 1));
    var entry = (page.entries || []).filter(function (candidate) {
      return candidate.index === index;
    })[0];
    var bytes = entry ? hexToBytes(entry.entry) : null;
    if (bytes === null) {
      throw new Refusal("unreadable");
    }
    var leaf = await leafHash(bytes);
    if (bytesToHex(leaf) !== shownLeafHash) {
      throw new Refusal("leaf-mismatch");
    }
    var proof = await getJson(
      "/v1/ledger/proofs/inclusion?index=" + index + "&tree_size=" + checkpoint.size.toString(),
    );
    var hashes = (Array.isArray(proof.hashes) ? proof.hashes : [null]).map(hexToBytes);
    if (hashes.indexOf(null) >= 0) {
      throw new Refusal("malformed-proof");
    }
    var root = await rootFromInclusionProof(leaf, BigInt(index), checkpoint.size, hashes);
    // Step 5, second half.
    if (!equal(root, checkpoint.rootHash)) {
      throw new Refusal("root-mismatch");
    }
    return checkpoint.size;
  }

  /** data-reason-malformed-proof for "malformed-proof", and so on. */
  function reasonText(section, reason) {
    var key = "reason" + reason.replace(/(^|-)([a-z])/g, function (_, dash, letter) {
      return letter.toUpperCase();
    });
    return section.dataset[key] || section.dataset.reasonUnreadable;
  }

  function start() {
    var section = document.getElementById("entries");
    if (!section) {
      return;
    }
    var texts = section.dataset;
    var publicKey = hexToBytes(texts.publicKey);
    var origin = texts.origin;
    var trust = document.getElementById("check-trust");
    if (trust) {
      trust.hidden = false;
    }
    section.querySelectorAll("tr[data-index]").forEach(function (row) {
      var cell = row.querySelector("td.proof");
      var index = Number(row.dataset.index);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "check";
      button.textContent = texts.textCheck;
      var result = document.createElement("span");
      result.className = "check-result";
      result.setAttribute("role", "status");
      result.setAttribute("aria-live", "polite");
      cell.append(" ", button, " ", result);
      button.addEventListener("click", async function () {
        button.disabled = true;
        result.className = "check-result";
        result.textContent = texts.textChecking;
        var verified = false;
        var message;
        try {
          if (!subtle || typeof BigInt !== "function" || publicKey === null || publicKey.length !== 32) {
            throw new Refusal("unsupported");
          }
          var size = await checkEntry(index, row.dataset.leafHash, origin, publicKey);
          verified = true;
          message = texts.textVerified.replace("{size}", size.toString());
        } catch (error) {
          // A Refusal says why; anything else is an answer this page cannot read.
          var reason = error instanceof Refusal ? error.reason : "unreadable";
          message = texts.textNotVerified + " " + reasonText(section, reason);
        }
        result.className = "check-result " + (verified ? "verified" : "not-verified");
        result.textContent = message;
        button.disabled = false;
      });
    });
  }

  if (typeof module === "object" && module.exports) {
    module.exports = {
      Refusal: Refusal,
      leafHash: leafHash,
      rootFromInclusionProof: rootFromInclusionProof,
      parseCheckpoint: parseCheckpoint,
      openCheckpoint: openCheckpoint,
    };
  } else if (typeof document !== "undefined") {
    start();
  }
})();
