// A smoke journey through the portal in headless Chromium (Playwright's
// core, driving Debian's chromium): the supplier signs in, uploads a CSV
// with one good and one bad row and reads the per-row report; a risk
// officer signs in and sees the alert inbox. Any console error or page
// error fails the journey; screenshots go to tests/browser/screenshots/<backend>/.
//
//   ANCHORFIN_URL=http://127.0.0.1:8080 SUPPLIER_KEY=afk_… \
//   RISK_OFFICER_KEY=afk_… BUYER_LEGAL_ID=… node tests/browser/journey.mjs
//
// scripts/browser-tests.sh starts a fresh server, onboards the parties and
// runs this.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, "screenshots", process.env.BACKEND ?? "sqlite");
mkdirSync(shots, { recursive: true });

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`journey: ${name} is not set`);
    process.exit(2);
  }
  return value;
}
const base = required("ANCHORFIN_URL").replace(/\/$/, "");
const supplierKey = required("SUPPLIER_KEY");
const officerKey = required("RISK_OFFICER_KEY");
const buyerLegalId = required("BUYER_LEGAL_ID");
const run = process.env.RUN_ID || String(Date.now());

const problems = [];
function check(condition, what) {
  if (!condition) {
    throw new Error(`journey: ${what}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
  ],
});

async function session(name) {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") {
      problems.push(`${name}: console error: ${message.text()} (${page.url()})`);
    }
  });
  page.on("pageerror", (error) => problems.push(`${name}: page error: ${error.message} (${page.url()})`));
  return { context, page };
}

async function signIn(page, key) {
  await page.goto(`${base}/sign-in`);
  await page.fill("#api_key", key);
  await Promise.all([page.waitForNavigation(), page.click("form.sign-in button[type=submit]")]);
  check(!page.url().includes("/sign-in"), `signing in stayed on ${page.url()}`);
}

let failed = null;
try {
  // The supplier: upload, then the report.
  const supplier = await session("supplier");
  await signIn(supplier.page, supplierKey);
  await supplier.page.screenshot({ path: join(shots, "supplier-home.png"), fullPage: true });
  await supplier.page.click('nav a[href="/uploads"]');
  await supplier.page.waitForSelector('form.upload input[type="file"]');
  const file = join(tmpdir(), `anchorfin-journey-${run}.csv`);
  writeFileSync(
    file,
    "invoice_number,buyer_legal_id,issue_date,due_date,currency,amount\n" +
      `JOURNEY-${run}-1,${buyerLegalId},2026-11-01,2027-03-31,CNY,1250.00\n` +
      `JOURNEY-${run}-2,${buyerLegalId},2026-02-30,2027-03-31,CNY,10.00\n`,
  );
  await supplier.page.setInputFiles('form.upload input[type="file"]', file);
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click("form.upload button[type=submit]")]);
  await supplier.page.waitForSelector("table.report");
  const rows = await supplier.page.$$eval("table.report tbody tr", (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent.trim())),
  );
  check(rows.length === 2, `the report has ${rows.length} rows, expected 2: ${JSON.stringify(rows)}`);
  check(rows[0][1] === `JOURNEY-${run}-1` && rows[0][2] === "Created", `row 1: ${JSON.stringify(rows[0])}`);
  check(
    rows[1][1] === `JOURNEY-${run}-2` && rows[1][2] === "Rejected" && rows[1][5] === "2026-02-30",
    `row 2: ${JSON.stringify(rows[1])}`,
  );
  check((await supplier.page.$('a[href$="/report.csv"]')) !== null, "no CSV download link");
  await supplier.page.screenshot({ path: join(shots, "supplier-upload-report.png"), fullPage: true });
  await supplier.page.click('nav a[href="/receivables"]');
  await supplier.page.waitForSelector("table");
  check(
    (await supplier.page.textContent("main")).includes(`JOURNEY-${run}-1`),
    "the new receivable is not in the list",
  );
  await supplier.page.screenshot({ path: join(shots, "supplier-receivables.png"), fullPage: true });
  await supplier.context.close();

  // The risk officer: the inbox.
  const officer = await session("risk officer");
  await signIn(officer.page, officerKey);
  check(new URL(officer.page.url()).pathname === "/alerts", `the risk officer landed on ${officer.page.url()}`);
  await officer.page.waitForSelector("#inbox");
  await officer.page.screenshot({ path: join(shots, "risk-officer-inbox.png"), fullPage: true });
  await officer.context.close();
} catch (error) {
  failed = error;
} finally {
  await browser.close();
}

if (failed) {
  console.error(failed.message || failed);
}
for (const problem of problems) {
  console.error(problem);
}
if (failed || problems.length > 0) {
  process.exit(1);
}
console.log(`journey: passed; screenshots in ${shots}`);
