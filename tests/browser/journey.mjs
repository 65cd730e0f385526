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
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import * as harness from "./harness.mjs";

const { shots } = harness;
const required = (name) => harness.required("journey", name);
const check = (condition, what) => harness.check("journey", condition, what);
const base = required("ANCHORFIN_URL").replace(/\/$/, "");
const supplierKey = required("SUPPLIER_KEY");
const officerKey = required("RISK_OFFICER_KEY");
const buyerLegalId = required("BUYER_LEGAL_ID");
const run = process.env.RUN_ID || String(Date.now());

const problems = [];
const browser = await harness.launch();
const session = (name) => harness.session(browser, problems, name);
const signIn = (page, key) => harness.signIn(page, base, key);

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
}
await harness.finish("journey", browser, failed, problems);
