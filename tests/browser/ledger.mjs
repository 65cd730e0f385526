// The ledger page's Check (static/ledger.js). First in Node, whose
// WebCrypto is the browser's API: the RFC 9162 inclusion vectors of
// transparency-dev/merkle (tests/data/rfc9162) and a signed note made
// here. Then in headless Chromium against a fresh server: the supplier
// uploads five invoices (ledger entries), opens /ledger and checks every
// row — each "Verified on the ledger (tree size N)"; with an answer of the
// API corrupted by Playwright (a proof hash, the head's signature, an
// entry's bytes) the row says "NOT verified" and why; without JavaScript
// the page keeps only its proof links. Any console or page error fails.
//
//   ANCHORFIN_URL=http://127.0.0.1:8080 SUPPLIER_KEY=afk_… BUYER_LEGAL_ID=… \
//   node tests/browser/ledger.mjs
//
// scripts/browser-tests.sh starts a fresh server, onboards the parties and
// runs this after journey.mjs.
import { createRequire } from "node:module";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import * as harness from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ledger = createRequire(import.meta.url)("../../static/ledger.js");
const required = (name) => harness.required("ledger", name);
const check = (condition, what) => harness.check("ledger", condition, what);

// --- In Node: the algorithm against the vectors, the note format.

function jsonFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      return jsonFiles(path);
    }
    return path.endsWith(".json") ? [path] : [];
  });
}
const base64 = (text) => Uint8Array.from(Buffer.from(text ?? "", "base64"));
const same = (left, right) => Buffer.from(left).equals(Buffer.from(right));

let accepted = 0;
const vectors = jsonFiles(join(here, "..", "data", "rfc9162", "inclusion"));
for (const path of vectors) {
  // Sizes up to 2^64 - 1: read as text, checked as BigInt.
  const text = readFileSync(path, "utf8").replace(/"(leafIdx|treeSize)": *([0-9]+)/g, '"$1": "$2"');
  const vector = JSON.parse(text);
  let verified;
  try {
    const root = await ledger.rootFromInclusionProof(
      base64(vector.leafHash),
      BigInt(vector.leafIdx),
      BigInt(vector.treeSize),
      (vector.proof ?? []).map(base64),
    );
    verified = same(root, base64(vector.root));
  } catch (error) {
    check(error instanceof ledger.Refusal, `${path}: ${error}`);
    verified = false;
  }
  check(verified === !vector.wantErr, `${path}: verified is ${verified}, wantErr ${vector.wantErr}`);
  accepted += verified ? 1 : 0;
}
check(vectors.length === 98 && accepted > 0, `${vectors.length} inclusion vectors, ${accepted} accepted`);

async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error instanceof ledger.Refusal ? error.reason : `${error}`;
  }
}
{
  // A note as src/ledger/checkpoint.rs signs one.
  const origin = "example.com/log";
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const text = `${origin}\n5\n${Buffer.alloc(32, 0xab).toString("base64")}\ntimestamp 1764000000000\n`;
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, keys.privateKey, Buffer.from(text)));
  const keyId = new Uint8Array(
    await crypto.subtle.digest("SHA-256", Buffer.concat([Buffer.from(`${origin}\n\x01`), publicKey])),
  ).slice(0, 4);
  const note = `${text}\n\u2014 ${origin} ${Buffer.concat([keyId, signature]).toString("base64")}\n`;
  const opened = await ledger.openCheckpoint(note, origin, publicKey);
  check(opened.checkpoint.size === 5n && same(opened.signature, signature), "the note made here does not open");
  const other = new Uint8Array(
    await crypto.subtle.exportKey(
      "raw",
      (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])).publicKey,
    ),
  );
  const refusals = [
    await refusal(ledger.openCheckpoint(note.replace("\n5\n", "\n6\n"), origin, publicKey)),
    await refusal(ledger.openCheckpoint(note, origin, other)),
    await refusal(ledger.openCheckpoint(note, "example.com/other", publicKey)),
    await refusal(ledger.openCheckpoint(text, origin, publicKey)),
  ];
  check(
    JSON.stringify(refusals) === JSON.stringify(["bad-signature", "no-signature", "no-signature", "no-signature"]),
    `tampered notes: ${refusals}`,
  );
}

// --- In Chromium, against the server.

const base = required("ANCHORFIN_URL").replace(/\/$/, "");
const supplierKey = required("SUPPLIER_KEY");
const buyerLegalId = required("BUYER_LEGAL_ID");
const run = process.env.RUN_ID || String(Date.now());
const problems = [];
const browser = await harness.launch();

async function treeSize() {
  const response = await fetch(`${base}/v1/ledger/head`);
  return response.ok ? (await response.json()).tree_size : 0;
}

/** Clicks Check on `row` and returns its result: [verified?, text]. */
async function checkRow(row) {
  await row.locator("button.check").click();
  const result = row.locator(".check-result.verified, .check-result.not-verified");
  await result.waitFor({ timeout: 15_000 });
  return [await result.evaluate((node) => node.classList.contains("verified")), (await result.textContent()).trim()];
}

/** Answers `pathname` of the API with its real answer changed by `change` (the JSON, in place). */
async function corrupting(page, pathname, change) {
  const matches = (url) => url.pathname === pathname;
  await page.route(matches, async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    change(json);
    await route.fulfill({ response, json });
  });
  return () => page.unroute(matches);
}

const flipLast = (hex) => hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");

let failed = null;
try {
  const { context, page } = await harness.session(browser, problems, "ledger");
  await harness.signIn(page, base, supplierKey);

  // Five new entries: an upload of five invoices, sequenced and signed.
  const before = await treeSize();
  await page.goto(`${base}/uploads`);
  const file = join(tmpdir(), `anchorfin-ledger-${run}.csv`);
  writeFileSync(
    file,
    "invoice_number,buyer_legal_id,issue_date,due_date,currency,amount\n" +
      [1, 2, 3, 4, 5].map((n) => `LEDGER-${run}-${n},${buyerLegalId},2026-11-01,2027-03-31,CNY,${n}00.00\n`).join(""),
  );
  await page.setInputFiles('form.upload input[type="file"]', file);
  await Promise.all([page.waitForNavigation(), page.click("form.upload button[type=submit]")]);
  await page.waitForSelector("table.report");
  let size = before;
  for (let waited = 0; size < before + 5 && waited < 100; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    size = await treeSize();
  }
  check(size >= before + 5, `the signed tree grew from ${before} to ${size} only`);

  await page.goto(`${base}/ledger`);
  const rows = page.locator("#entries tbody tr");
  await page.locator("#entries button.check").first().waitFor();
  const count = await rows.count();
  check(count === Math.min(size, 20), `${count} rows for a tree of ${size}`);
  check(await page.locator("#entries button.check").count() === count, "not every row has a Check button");
  check(await page.locator("#check-trust").isVisible(), "what the check trusts is not said");
  check(
    (await page.locator("#check-trust").textContent()).includes("a bank compares it with the key it was given"),
    "the trust note does not say how the key is pinned",
  );

  // Every row verifies against the head the page's key signed.
  for (let i = 0; i < count; i++) {
    const [verified, text] = await checkRow(rows.nth(i));
    check(verified && text === `Verified on the ledger (tree size ${size})`, `row ${i}: ${text}`);
  }
  check(
    (await rows.first().locator(".check-result").getAttribute("role")) === "status",
    "the result is not announced",
  );
  await page.screenshot({ path: join(harness.shots, "ledger-verified.png"), fullPage: true });

  // One hash of the proof changed: the proof leads elsewhere.
  const newest = rows.first();
  let restore = await corrupting(page, "/v1/ledger/proofs/inclusion", (proof) => {
    check(proof.hashes.length > 0, "the newest entry's proof is empty");
    proof.hashes[0] = flipLast(proof.hashes[0]);
  });
  let [verified, text] = await checkRow(newest);
  check(
    !verified && text === "NOT verified: the inclusion proof does not lead to the signed root hash.",
    `with a corrupted proof: ${text}`,
  );
  await page.screenshot({ path: join(harness.shots, "ledger-not-verified.png"), fullPage: true });
  await restore();

  // A byte of the signature in the head's signed note changed.
  restore = await corrupting(page, "/v1/ledger/head", (head) => {
    const at = head.checkpoint.lastIndexOf(" ") + 20;
    const replacement = head.checkpoint[at] === "A" ? "B" : "A";
    head.checkpoint = head.checkpoint.slice(0, at) + replacement + head.checkpoint.slice(at + 1);
  });
  [verified, text] = await checkRow(newest);
  check(
    !verified &&
      text === "NOT verified: the tree head's signature does not verify with the platform public key shown.",
    `with a corrupted signature: ${text}`,
  );
  await restore();

  // The entry's bytes changed: they no longer hash to the leaf shown.
  restore = await corrupting(page, "/v1/ledger/entries", (entries) => {
    entries.entries[0].entry = flipLast(entries.entries[0].entry);
  });
  [verified, text] = await checkRow(rows.nth(1));
  check(
    !verified && text === "NOT verified: the entry's bytes do not hash to the leaf hash shown.",
    `with corrupted entry bytes: ${text}`,
  );
  await restore();

  // Honest answers again: verified again.
  [verified] = await checkRow(newest);
  check(verified, "the check did not recover once the answers were honest");
  await context.close();

  // Without JavaScript: the proof links, no buttons.
  const plain = await browser.newContext({ locale: "en-GB", javaScriptEnabled: false });
  const plainPage = await plain.newPage();
  await harness.signIn(plainPage, base, supplierKey);
  await plainPage.goto(`${base}/ledger`);
  check((await plainPage.locator("#entries button").count()) === 0, "buttons without JavaScript");
  check(
    (await plainPage.locator('#entries a[href^="/v1/ledger/proofs/inclusion?"]').count()) === count,
    "the proof links are missing without JavaScript",
  );
  check(!(await plainPage.locator("#check-trust").isVisible()), "the Check note shows without JavaScript");
  await plain.close();
} catch (error) {
  failed = error;
}
await harness.finish("ledger", browser, failed, problems);
