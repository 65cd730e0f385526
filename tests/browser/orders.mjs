// Purchase orders in a real browser: the supplier registers an order
// through the form (a bad amount first: the form comes back naming the
// field, with what was typed kept), the buyer finds it in its queue "To
// acknowledge" and acknowledges it with a signature made in the browser
// from its key file (static/sign.js), the supplier sees it acknowledged
// and registers an invoice against it through the invoice form. Any
// console or page error fails.
//
//   ANCHORFIN_URL=http://127.0.0.1:8080 SUPPLIER_KEY=afk_… BUYER_KEY=afk_… \
//   BUYER_KEY_FILE=… node tests/browser/orders.mjs
//
// scripts/browser-tests.sh starts a fresh server, onboards the parties and
// runs this after ledger.mjs.
import { join } from "node:path";
import * as harness from "./harness.mjs";

const journey = "orders";
const required = (name) => harness.required(journey, name);
const check = (condition, what) => harness.check(journey, condition, what);
const base = required("ANCHORFIN_URL").replace(/\/$/, "");
const supplierKey = required("SUPPLIER_KEY");
const buyerKey = required("BUYER_KEY");
const buyerKeyFile = required("BUYER_KEY_FILE");
const run = process.env.RUN_ID || String(Date.now());
const number = `ORDERS-${run}`;

const problems = [];
const browser = await harness.launch();
let failed = null;
try {
  // The supplier registers the order; a bad amount comes back named.
  const supplier = await harness.session(browser, problems, "supplier");
  await harness.signIn(supplier.page, base, supplierKey);
  await supplier.page.click('nav a[href="/purchase-orders"]');
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click('a[href="/purchase-orders/new"]')]);
  await supplier.page.selectOption("#buyer_id", { index: 1 });
  await supplier.page.fill("#po_number", number);
  await supplier.page.fill("#issue_date", "2026-10-01");
  await supplier.page.fill("#amount", "5,000x");
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click("form.terms button[type=submit]")]);
  const problem = await supplier.page.textContent(".problem");
  check(problem.includes("amount:"), `the refusal does not name the amount: ${problem}`);
  check((await supplier.page.inputValue("#po_number")) === number, "the PO number typed was not kept");
  await supplier.page.fill("#amount", "5000.00");
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click("form.terms button[type=submit]")]);
  check(/\/purchase-orders\/[0-9a-f-]{36}$/.test(supplier.page.url()), `registered, but on ${supplier.page.url()}`);
  const orderPage = supplier.page.url();
  check((await harness.fact(supplier.page, "Status")) === "Registered", "the order is not registered");
  check((await supplier.page.$("#acknowledge")) === null, "the supplier is offered the acknowledgement");

  // The buyer acknowledges it from its queue, signed in the browser.
  const buyer = await harness.session(browser, problems, "buyer");
  await harness.signIn(buyer.page, base, buyerKey);
  await buyer.page.click('nav a[href="/purchase-orders?status=registered"]');
  await buyer.page.click(`text=${number}`);
  await buyer.page.waitForSelector("#acknowledge");
  await buyer.page.screenshot({ path: join(harness.shots, "buyer-acknowledge.png"), fullPage: true });
  const message = await harness.signAndSend(journey, buyer.page, "acknowledge", buyerKeyFile);
  check(message.startsWith("anchorfin/v1/acknowledge_po\n"), `not an acknowledgement: ${message}`);
  check(message.includes("\namount=5000.00\ncurrency=CNY\n"), `the message does not hold the order's amount: ${message}`);
  check((await harness.fact(buyer.page, "Status")) === "Acknowledged", "the order is not acknowledged");
  check((await buyer.page.$("#acknowledge")) === null, "the acknowledgement is still offered");
  await buyer.context.close();

  // The supplier sees it acknowledged and invoices against it.
  await supplier.page.goto(orderPage);
  check((await harness.fact(supplier.page, "Status")) === "Acknowledged", "the supplier does not see it acknowledged");
  await supplier.page.click('nav a[href="/receivables"]');
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click('a[href="/receivables/new"]')]);
  await supplier.page.selectOption("#buyer_id", { index: 1 });
  await supplier.page.fill("#invoice_number", `INV-${number}`);
  await supplier.page.fill("#issue_date", "2026-11-01");
  await supplier.page.fill("#due_date", "2027-02-28");
  await supplier.page.fill("#amount", "1200.00");
  await supplier.page.selectOption("#purchase_order_id", { value: orderPage.split("/").pop() });
  await Promise.all([supplier.page.waitForNavigation(), supplier.page.click("form.terms button[type=submit]")]);
  check(/\/receivables\/[0-9a-f-]{36}$/.test(supplier.page.url()), `invoiced, but on ${supplier.page.url()}`);
  await supplier.page.goto(orderPage);
  const invoiced = await harness.fact(supplier.page, "Invoiced");
  check(invoiced.includes("1,200.00"), `the order's invoiced amount is ${invoiced}`);
  await supplier.page.screenshot({ path: join(harness.shots, "supplier-order.png"), fullPage: true });
  await supplier.context.close();
} catch (error) {
  failed = error;
}
await harness.finish(journey, browser, failed, problems);
