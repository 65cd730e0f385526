// One invoice carried through the portal in headless Chromium (Playwright's
// core, driving Debian's chromium), every signature made in the browser
// from a key file: the supplier uploads a CSV with one good and one bad
// row and reads the per-row report; the buyer finds the invoice in its
// queue and signs its confirmation; the supplier offers the asset to
// Bank A (signed); Bank A looks the invoice up and accepts with a signed
// pledge; the supplier then offers the same asset to Bank B — refused,
// and alerted; the risk officer finds the alert in the inbox and
// acknowledges it; the operator onboards a bank through the form (a bad
// key first, refused by name), reads its keys once and adds it a risk
// officer. Any console error or page error not expected fails the
// journey; screenshots go to tests/browser/screenshots/<backend>/.
//
//   ANCHORFIN_URL=http://127.0.0.1:8080 SUPPLIER_KEY=afk_… SUPPLIER_KEY_FILE=… \
//   BUYER_KEY=afk_… BUYER_KEY_FILE=… BANK_A_KEY=afk_… BANK_A_KEY_FILE=… \
//   RISK_OFFICER_KEY=afk_… BUYER_LEGAL_ID=… SUPPLIER_LEGAL_ID=… OPERATOR_KEY=afk_… \
//   node tests/browser/journey.mjs
//
// scripts/browser-tests.sh starts a fresh server, onboards the parties and
// runs this.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { execSync } from "node:child_process";
import { join } from "node:path";
import { tmpdir } from "node:os";
import * as harness from "./harness.mjs";

const { shots } = harness;
const required = (name) => harness.required("journey", name);
const check = (condition, what) => harness.check("journey", condition, what);
const base = required("ANCHORFIN_URL").replace(/\/$/, "");
const supplierKey = required("SUPPLIER_KEY");
const supplierKeyFile = required("SUPPLIER_KEY_FILE");
const buyerKey = required("BUYER_KEY");
const buyerKeyFile = required("BUYER_KEY_FILE");
const bankAKey = required("BANK_A_KEY");
const bankAKeyFile = required("BANK_A_KEY_FILE");
const officerKey = required("RISK_OFFICER_KEY");
const buyerLegalId = required("BUYER_LEGAL_ID");
const supplierLegalId = required("SUPPLIER_LEGAL_ID");
const expireSessions = required("EXPIRE_SESSIONS");
const operatorKey = required("OPERATOR_KEY");
const run = process.env.RUN_ID || String(Date.now());
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const problems = [];
const browser = await harness.launch();
const session = (name) => harness.session(browser, problems, name);
const signIn = (page, key) => harness.signIn(page, base, key);

const signAndSend = (page, id, keyFile) => harness.signAndSend("journey", page, id, keyFile);
const fact = harness.fact;

// Every page in `paths` for the holder of `key`: axe-core finds no
// serious or critical violation (WCAG 2.1 A/AA rules), and at 375 px wide
// nothing runs off the side of the screen. The axe pass injects axe's own
// script, which the Content-Security-Policy rightly forbids, so only that
// context bypasses it; the mobile pass keeps it.
async function audit(name, key, paths) {
  const desktop = await browser.newContext({ locale: "en-GB", bypassCSP: true });
  const page = await desktop.newPage();
  await signIn(page, key);
  for (const path of paths) {
    await page.goto(`${base}${path}`);
    await page.evaluate(axeSource);
    const results = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }),
    );
    for (const violation of results.violations) {
      if (violation.impact === "serious" || violation.impact === "critical") {
        const where = violation.nodes.map((node) => node.target.join(" ")).slice(0, 3).join(", ");
        problems.push(`${name} ${path}: axe ${violation.impact} ${violation.id}: ${violation.help} (${where})`);
      }
    }
  }
  await desktop.close();
  const mobile = await browser.newContext({
    locale: "en-GB",
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const phone = await mobile.newPage();
  phone.on("pageerror", (error) => problems.push(`${name} (375 px): page error: ${error.message}`));
  await signIn(phone, key);
  for (const path of paths) {
    await phone.goto(`${base}${path}`);
    // A mobile browser widens its layout to fit what overflows, so the
    // page's width is measured against the screen's, not the window's.
    const scrollWidth = await phone.evaluate(() => document.documentElement.scrollWidth);
    if (scrollWidth > 375) {
      problems.push(`${name} ${path}: at 375 px the page is ${scrollWidth} px wide`);
    }
    const slug = path.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "") || "home";
    await phone.screenshot({ path: join(shots, `mobile-${name}-${slug}.png`), fullPage: true });
  }
  await mobile.close();
}

let failed = null;
try {
  // A key that is not one: refused on the form, no session.
  const stranger = await session("stranger");
  await stranger.page.goto(`${base}/sign-in`);
  await stranger.page.fill("#api_key", "afk_notakey_0000");
  stranger.expect(401);
  await Promise.all([stranger.page.waitForNavigation(), stranger.page.click("form.sign-in button[type=submit]")]);
  check(
    (await stranger.page.textContent("main")).includes("This API key was not accepted"),
    "a wrong key was not refused on the sign-in page",
  );
  check(new URL(stranger.page.url()).pathname === "/sign-in", `a wrong key went to ${stranger.page.url()}`);
  const cookies = await stranger.context.cookies();
  check(!cookies.some((cookie) => cookie.name === "anchorfin_session"), "a wrong key got a session cookie");
  await stranger.context.close();

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

  // The buyer: the invoice in its queue, confirmed with a signature made
  // in the browser.
  const buyer = await session("buyer");
  await signIn(buyer.page, buyerKey);
  await buyer.page.click('nav a[href="/receivables?status=registered"]');
  await buyer.page.click(`text=JOURNEY-${run}-1`);
  await buyer.page.waitForSelector("#confirm");
  check((await fact(buyer.page, "Status")) === "Registered", "the invoice is not registered");
  await buyer.page.screenshot({ path: join(shots, "buyer-confirm.png"), fullPage: true });
  const confirmation = await signAndSend(buyer.page, "confirm", buyerKeyFile);
  check(confirmation.startsWith("anchorfin/v1/confirm\n"), `not a confirmation: ${confirmation}`);
  check((await fact(buyer.page, "Status")) === "Confirmed", `after confirming, the status is ${await fact(buyer.page, "Status")}`);
  check((await buyer.page.$("#confirm")) === null, "the confirmation form is still offered");
  await buyer.context.close();

  // The supplier offers the asset to Bank A for a pledge, signed.
  await supplier.page.click('nav a[href="/receivables"]');
  await supplier.page.click(`text=JOURNEY-${run}-1`);
  await supplier.page.click('dl.facts a[href^="/assets/"]');
  await supplier.page.waitForSelector("form.terms");
  const assetUrl = supplier.page.url();
  await supplier.page.selectOption("#bank_id", { label: "Bank A" });
  await supplier.page.selectOption("#kind", "pledge");
  await supplier.page.fill("#amount", "1000.00");
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click("form.terms button[type=submit]")]);
  const offerTermsUrl = supplier.page.url();
  await supplier.page.screenshot({ path: join(shots, "supplier-offer-sign.png"), fullPage: true });
  const offerMessage = await signAndSend(supplier.page, "offer", supplierKeyFile);
  check(offerMessage.includes("\namount=1000.00\ncurrency=CNY\n"), `the offer message: ${offerMessage}`);
  check(new URL(supplier.page.url()).pathname.startsWith("/offers/"), `the offer landed on ${supplier.page.url()}`);
  check((await fact(supplier.page, "Status")) === "Open", "the offer is not open");

  // Bank A: the invoice looked up (registered, confirmed, free), then the
  // offer accepted with a signed pledge.
  const bank = await session("bank A");
  await signIn(bank.page, bankAKey);
  await bank.page.click('nav a[href="/lookup"]');
  await bank.page.fill("#seller", supplierLegalId);
  await bank.page.fill("#buyer", buyerLegalId);
  await bank.page.fill("#invoice", `journey-${run}-1`);
  await Promise.all([bank.page.waitForNavigation(), bank.page.click("form.terms button[type=submit]")]);
  check((await fact(bank.page, "Confirmed")) === "Yes", "the look-up does not find it confirmed");
  check((await fact(bank.page, "Financed (encumbered)")) === "No", "the look-up finds it financed before the pledge");
  await bank.page.click('nav a[href="/offers"]');
  await bank.page.click("table tbody tr a");
  await bank.page.waitForSelector('form.terms input[name="amount"]');
  await Promise.all([bank.page.waitForNavigation(), bank.page.click("form.terms button[type=submit]")]);
  const pledgeMessage = await signAndSend(bank.page, "accept", bankAKeyFile);
  check(pledgeMessage.startsWith("anchorfin/v1/pledge\n"), `not a pledge: ${pledgeMessage}`);
  check((await fact(bank.page, "Status")) === "Accepted", `the offer after the pledge: ${await fact(bank.page, "Status")}`);
  check((await fact(bank.page, "Lien")) !== null, "no lien after the pledge");
  await bank.page.screenshot({ path: join(shots, "bank-pledged.png"), fullPage: true });
  await bank.page.click('nav a[href="/lookup"]');
  await bank.page.fill("#seller", supplierLegalId);
  await bank.page.fill("#buyer", buyerLegalId);
  await bank.page.fill("#invoice", `JOURNEY-${run}-1`);
  await Promise.all([bank.page.waitForNavigation(), bank.page.click("form.terms button[type=submit]")]);
  check((await fact(bank.page, "Financed (encumbered)")) === "Yes", "the look-up does not find it financed after the pledge");
  await bank.context.close();

  // The supplier offers the same asset to Bank B: refused, and alerted.
  await supplier.page.goto(assetUrl);
  await supplier.page.waitForSelector("form.terms .problem, section .problem");
  await supplier.page.selectOption("#bank_id", { label: "Bank B" });
  await supplier.page.fill("#amount", "1000.00");
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click("form.terms button[type=submit]")]);
  await signAndSend(supplier.page, "offer", supplierKeyFile);
  const refusal = await supplier.page.textContent(".problem[role=alert]");
  check(refusal.includes("already_encumbered"), `the second offer was not refused as already_encumbered: ${refusal}`);
  check(refusal.includes("risk officers were alerted"), `the refusal does not say risk officers were alerted: ${refusal}`);
  await supplier.page.screenshot({ path: join(shots, "supplier-double-pledge-refused.png"), fullPage: true });
  await supplier.context.close();

  // At maturity the buyer pays, signed; Bank A confirms receipt of its
  // share, signed; the lien is settled.
  const payer = await session("buyer paying");
  await signIn(payer.page, buyerKey);
  await payer.page.goto(assetUrl);
  await payer.page.fill("#pay-amount", "1250.00");
  await Promise.all([payer.page.waitForNavigation(), payer.page.click(`form[action$="/payment"] button[type=submit]`)]);
  const payment = await signAndSend(payer.page, "payment", buyerKeyFile);
  check(payment.startsWith("anchorfin/v1/payment\n"), `not a payment: ${payment}`);
  check(payer.page.url() === assetUrl, `the payment went to ${payer.page.url()}`);
  await payer.context.close();
  const lienholder = await session("bank A receiving");
  await signIn(lienholder.page, bankAKey);
  await lienholder.page.click('nav a[href="/pledges"]');
  await lienholder.page.click("table tbody tr a");
  check((await fact(lienholder.page, "Status")) === "Paid, receipt awaited", `the lien after the payment: ${await fact(lienholder.page, "Status")}`);
  const receipt = await signAndSend(lienholder.page, "receipt", bankAKeyFile);
  check(receipt.includes("\namount=1000.00\n"), `the receipt is not for the pledged 1000.00: ${receipt}`);
  check((await fact(lienholder.page, "Status")) === "Settled", `the lien after the receipt: ${await fact(lienholder.page, "Status")}`);
  await lienholder.page.screenshot({ path: join(shots, "bank-receipt-settled.png"), fullPage: true });
  const lienPath = new URL(lienholder.page.url()).pathname;
  await lienholder.context.close();

  // The risk officer: the alert in the inbox, acknowledged.
  const officer = await session("risk officer");
  await signIn(officer.page, officerKey);
  check(new URL(officer.page.url()).pathname === "/alerts", `the risk officer landed on ${officer.page.url()}`);
  await officer.page.waitForSelector("#inbox");
  await officer.page.screenshot({ path: join(shots, "risk-officer-inbox.png"), fullPage: true });
  await officer.page.click("#inbox tbody tr:has-text('Duplicate pledge') a");
  await officer.page.waitForSelector("form.acknowledge, form[action$='/acknowledgement']");
  // A form whose CSRF token is not the session's (as a forged one from
  // another site would be): refused, nothing acknowledged.
  await officer.page.evaluate(() => {
    document.querySelector("form[action$='/acknowledgement'] input[name=csrf]").value = "forged";
  });
  officer.expect(403);
  const forged = await Promise.all([
    officer.page.waitForNavigation(),
    officer.page.click("form[action$='/acknowledgement'] button[type=submit]"),
  ]);
  check(forged[0].status() === 403, `a forged form answered ${forged[0].status()}`);
  check(
    (await officer.page.textContent("main")).includes("did not come from a page of this session"),
    "the forged form's refusal does not say why",
  );
  await officer.page.goBack();
  await officer.page.reload();
  check(
    (await officer.page.$("form[action$='/acknowledgement']")) !== null,
    "the alert was acknowledged by a forged form",
  );
  await Promise.all([
    officer.page.waitForNavigation(),
    officer.page.click("form[action$='/acknowledgement'] button[type=submit]"),
  ]);
  check(
    (await officer.page.textContent("main")).includes("acknowledged"),
    "the alert page does not say it is acknowledged",
  );
  await officer.page.screenshot({ path: join(shots, "risk-officer-acknowledged.png"), fullPage: true });
  const alertPath = new URL(officer.page.url()).pathname;
  // The session left idle past its time: the next page asks to sign in
  // again, says why, and comes back to the page after.
  execSync(expireSessions, { stdio: "inherit" });
  await officer.page.goto(`${base}/alerts`);
  check(new URL(officer.page.url()).pathname === "/sign-in", `an expired session stayed on ${officer.page.url()}`);
  check(
    (await officer.page.textContent("main")).includes("Your session has ended"),
    "the sign-in page does not say the session ended",
  );
  await officer.page.fill("#api_key", officerKey);
  await Promise.all([officer.page.waitForNavigation(), officer.page.click("form.sign-in button[type=submit]")]);
  check(new URL(officer.page.url()).pathname === "/alerts", `after signing in again: ${officer.page.url()}`);
  await officer.context.close();

  // The operator: onboarding, refused once by name, then the key shown once.
  const operator = await session("operator");
  await signIn(operator.page, operatorKey);
  await operator.page.click('nav a[href="/orgs/new"]');
  await operator.page.fill("#name", `Journey Bank ${run}`);
  await operator.page.selectOption("#role", "bank");
  await operator.page.fill("#legal_id", `JOURNEY-BANK-${run}`);
  await operator.page.fill("#public_keys", "not-a-key");
  operator.expect(422);
  await Promise.all([operator.page.waitForNavigation(), operator.page.click("main form button[type=submit]")]);
  const problem = await operator.page.textContent("#problem");
  check(problem.includes("Signing public keys · Line 1"), `the refusal does not name the field: ${problem}`);
  check((await operator.page.inputValue("#name")) === `Journey Bank ${run}`, "the name was not kept");
  await operator.page.screenshot({ path: join(shots, "operator-onboarding-refused.png"), fullPage: true });
  await operator.page.fill("#public_keys", "");
  await operator.page.fill("#risk_emails", `risk-${run}@journey-bank.example`);
  await Promise.all([operator.page.waitForNavigation(), operator.page.click("main form button[type=submit]")]);
  const keys = await operator.page.$$eval("main code", (codes) =>
    codes.map((code) => code.textContent.trim()).filter((text) => text.startsWith("afk_")),
  );
  check(keys.length === 2, `the onboarded page shows ${keys.length} keys, expected 2`);
  await operator.page.screenshot({ path: join(shots, "operator-onboarded.png"), fullPage: true });
  await Promise.all([operator.page.waitForNavigation(), operator.page.click("dd a")]);
  const organizationPath = new URL(operator.page.url()).pathname;
  await operator.page.fill("#email", `second-${run}@journey-bank.example`);
  await Promise.all([operator.page.waitForNavigation(), operator.page.click("main form button[type=submit]")]);
  check(
    (await operator.page.textContent("main")).includes("shown this once"),
    "adding a risk officer did not show its key",
  );
  await operator.page.click('nav a[href="/orgs"]');
  await operator.page.waitForSelector("table");
  check(
    (await operator.page.textContent("main")).includes(`Journey Bank ${run}`),
    "the new bank is not in the list",
  );
  await operator.page.screenshot({ path: join(shots, "operator-organisations.png"), fullPage: true });
  await operator.context.close();

  // Accessibility and the narrow screen, on every kind of page the
  // journey went through.
  const assetPath = new URL(assetUrl).pathname;
  const offerTerms = new URL(offerTermsUrl);
  await audit("supplier", supplierKey, [
    "/",
    "/receivables",
    "/uploads",
    assetPath,
    `${offerTerms.pathname}${offerTerms.search}`,
    "/offers",
    "/ledger",
    "/purchase-orders",
    "/purchase-orders/new",
    "/receivables/new",
  ]);
  await audit("buyer", buyerKey, ["/", "/receivables?status=registered", "/receivables", "/purchase-orders?status=registered"]);
  await audit("bank", bankAKey, ["/", "/offers", "/lookup", "/pledges", lienPath]);
  await audit("officer", officerKey, ["/alerts", alertPath]);
  await audit("operator", operatorKey, ["/orgs", "/orgs/new", organizationPath]);
  const anonymous = await browser.newContext({ locale: "en-GB", bypassCSP: true });
  const signInPage = await anonymous.newPage();
  await signInPage.goto(`${base}/sign-in`);
  await signInPage.evaluate(axeSource);
  const signInResults = await signInPage.evaluate(() => axe.run());
  for (const violation of signInResults.violations) {
    if (violation.impact === "serious" || violation.impact === "critical") {
      problems.push(`/sign-in: axe ${violation.impact} ${violation.id}: ${violation.help}`);
    }
  }
  await anonymous.close();
} catch (error) {
  failed = error;
}
await harness.finish("journey", browser, failed, problems);
