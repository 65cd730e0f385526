// What every browser journey shares: its settings from the environment,
// Debian's chromium launched headless through Playwright's core, sessions
// that record any console or page error, signing in through the form,
// and the verdict (exit 1 on a failure or any error recorded).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** tests/browser/screenshots/<backend>/, created. */
export const shots = join(here, "screenshots", process.env.BACKEND ?? "sqlite");
mkdirSync(shots, { recursive: true });

/** An environment variable the journey `name` cannot run without. */
export function required(journey, name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${journey}: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

export function check(journey, condition, what) {
  if (!condition) {
    throw new Error(`${journey}: ${what}`);
  }
}

export function launch() {
  return chromium.launch({
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
}

/**
 * A fresh browser context whose console and page errors go to `problems`,
 * except Chromium's own note of the one refusal a step expects
 * (`session.expect(401)` before it): a refused sign-in or form is a page
 * answered 401 or 403, which Chromium reports as a failed load.
 */
export async function session(browser, problems, name) {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  const held = { expected: null };
  page.on("console", (message) => {
    if (message.type() !== "error") {
      return;
    }
    if (held.expected && message.text().includes(`status of ${held.expected} `)) {
      held.expected = null;
    } else {
      problems.push(`${name}: console error: ${message.text()} (${page.url()})`);
    }
  });
  page.on("pageerror", (error) => problems.push(`${name}: page error: ${error.message} (${page.url()})`));
  return { context, page, expect: (status) => (held.expected = status) };
}

export async function signIn(page, base, key) {
  await page.goto(`${base}/sign-in`);
  await page.fill("#api_key", key);
  await Promise.all([page.waitForNavigation(), page.click("form.sign-in button[type=submit]")]);
  check("sign-in", !page.url().includes("/sign-in"), `signing in stayed on ${page.url()}`);
}

/** Closes the browser, reports, and exits 1 if `failed` or anything was recorded. */
export async function finish(journey, browser, failed, problems) {
  await browser.close();
  if (failed) {
    console.error(failed.message || failed);
  }
  for (const problem of problems) {
    console.error(problem);
  }
  if (failed || problems.length > 0) {
    process.exit(1);
  }
  console.log(`${journey}: passed; screenshots in ${shots}`);
}

/**
 * Signs the form `id`'s message with the key file as a person would:
 * picks the file, waits for the signature, and sends the form; returns
 * the message shown (which the journey checks).
 */
export async function signAndSend(journey, page, id, keyFile) {
  const message = await page.textContent(`.signer[data-form="${id}"] pre.message`);
  check(journey, message.startsWith("anchorfin/v1/"), `the ${id} message is not a canonical message: ${message}`);
  await page.setInputFiles(`#${id}-key`, keyFile);
  await page.waitForSelector(`.signer[data-form="${id}"] .sign-status.done`);
  const signature = await page.inputValue(`#${id} input[name=signature]`);
  check(journey, /^[0-9a-f]{128}$/.test(signature), `the ${id} signature is not 64 bytes of hex: ${signature}`);
  await Promise.all([page.waitForNavigation(), page.click(`#${id} button[type=submit]`)]);
  return message;
}

/** The value of the fact labelled `label` on a page (`dl.facts`). */
export async function fact(page, label) {
  return page.evaluate((label) => {
    for (const dt of document.querySelectorAll("dl.facts dt")) {
      if (dt.textContent.trim() === label) {
        return dt.nextElementSibling.textContent.trim();
      }
    }
    return null;
  }, label);
}
