// The console in Debian's Firefox ESR, driven over WebDriver BiDi by puppeteer-core (no browser
// download: the stock Firefox speaks BiDi itself). Run by test_console_firefox.py with
//   node firefox_flow.mjs <config.json>
// where the config names the installed puppeteer-core, Firefox, the console's URL, the admin token,
// the backend's URL, the OpenAPI document to import and where screenshots go.
//
// It walks a short real flow: log in (a wrong token refused first), create a server, see its
// endpoints, import the document through the Tools page's preview, and from Debug list the tools
// and run one against the backend. Each step prints a JSON line {step, ms}; the end prints
// {ok: true, consoleErrors}. Any failed wait, or an error the page threw, exits non-zero with why.
//
// Controls are found as a user finds them, by their label or their text, with small in-page
// queries: puppeteer's ARIA selectors (::-p-aria) do not answer over BiDi in Firefox ESR 153.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const WAIT = 15_000; // ms: a page's answer, never a fixed sleep
const DEADLINE = 60_000; // ms: the whole flow; Python's own timeout is longer, so Firefox is closed first

const { default: puppeteer } = await import(
  pathToFileURL(join(config.puppeteer, 'lib', 'puppeteer', 'puppeteer-core.js')).href);

const started = Date.now();
const step = (name) => console.log(JSON.stringify({ step: name, ms: Date.now() - started }));

// In-page queries (serialized into the page, so they may use only what they are given).
function byLabel(label) {
  const seen = (el) => el && el.getClientRects().length > 0;
  for (const l of document.querySelectorAll('label')) {
    if (l.textContent.trim() === label && seen(l.control)) return l.control;
  }
  for (const el of document.querySelectorAll('[aria-label]')) {
    if (el.getAttribute('aria-label') === label && seen(el)) return el;
  }
  return null;
}

function byText(selector, text) {
  for (const el of document.querySelectorAll(selector)) {
    if (el.textContent.trim() === text && el.getClientRects().length > 0 && !el.disabled) return el;
  }
  return null;
}

function matching(selector, source) {
  const pattern = new RegExp(source);
  for (const el of document.querySelectorAll(selector)) {
    if (pattern.test(el.textContent.trim()) && el.getClientRects().length > 0) return el;
  }
  return null;
}

async function found(page, what, fn, ...args) {
  try {
    return (await page.waitForFunction(fn, { timeout: WAIT }, ...args)).asElement();
  } catch (err) {
    throw new Error(`${what} did not appear within ${WAIT} ms (${err.message})`);
  }
}

const control = (page, label) => found(page, `the control labelled "${label}"`, byLabel, label);
const button = (page, text) => found(page, `a button or link "${text}"`, byText, 'button, a', text);
const heading = (page, text) => found(page, `the heading "${text}"`, byText, 'h1, h2, h3', text);
const shown = (page, selector, source) => found(page, `${selector} matching /${source}/`, matching, selector, source);

async function fill(page, label, value) {
  const el = await control(page, label);
  await el.evaluate((input) => { input.value = ''; });
  await el.type(value); // real key events, so the page's input listeners run as they do for a user
  return el;
}

async function shot(page, name) {
  await page.screenshot({ path: join(config.shots, `firefox-${name}.png`), fullPage: true });
  const unlabeled = await page.evaluate(`(${config.unlabeled})()`);
  if (unlabeled.length) throw new Error(`${name}: form controls without a label: ${unlabeled}`);
  step(name);
}

const browser = await puppeteer.launch({
  browser: 'firefox', executablePath: config.firefox, headless: true,
  // No first-run pages, updates or telemetry: a profile of its own, for this run only.
  extraPrefsFirefox: { 'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false, 'toolkit.telemetry.enabled': false },
});
const guard = setTimeout(() => {
  console.error(`the flow took over ${DEADLINE} ms`);
  browser.close().finally(() => process.exit(3));
}, DEADLINE);
const pageErrors = [];
const consoleErrors = [];
let failed = null;
try {
  step(`launched ${await browser.version()}`);
  const page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err && err.message ? err.message : err)));
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });

  // Log in: a wrong token refused with a message, then the admin token (Enter submits).
  await page.goto(config.console);
  await fill(page, 'Admin token', 'wrong');
  await (await button(page, 'Log in')).click();
  await shown(page, '.form-error', '^That token is not the admin token\\.$');
  await shot(page, '01-login-refused');
  await fill(page, 'Admin token', config.token);
  await page.keyboard.press('Enter');
  await heading(page, 'MCP services');
  await shot(page, '02-services');

  // Create a server; its page shows its endpoints on the edge.
  await (await button(page, 'Create MCP service')).click();
  // The name's pattern compiles (in v-mode) and flags a bad name while it is typed.
  const name = await fill(page, 'Name', 'Things!');
  if (!(await name.evaluate((el) => el.validity.patternMismatch))) throw new Error('"Things!" passed the name pattern');
  await fill(page, 'Name', config.server);
  if (await name.evaluate((el) => !el.validity.valid)) throw new Error(`"${config.server}" failed the name pattern`);
  await (await button(page, 'Create')).click();
  await heading(page, config.server);
  await shown(page, 'code.endpoint', `/mcp-servers/${config.server}$`);
  await shot(page, '03-server');

  // Tools: the document uploaded, previewed, confirmed; the YAML editor then shows the tools.
  await (await button(page, 'Tools')).click();
  const file = await control(page, 'Document (OpenAPI 3.x or Swagger 2.0, JSON or YAML)');
  await file.uploadFile(config.spec);
  await fill(page, 'Base URL', config.baseUrl);
  await (await button(page, 'Preview')).click();
  await heading(page, 'Review');
  await shown(page, '.card p', '^2 operations: 2 tools \\(2 added,');
  await shot(page, '04-import-preview');
  await (await button(page, 'Confirm import')).click();
  await shown(page, 'p.done', '^2 tools are live\\.$');
  await page.waitForFunction(() => {
    const editor = document.querySelector('textarea[aria-label="Tools YAML"]');
    return editor && editor.value.includes('getThing') && editor.value.includes('listThings');
  }, { timeout: WAIT });
  await shot(page, '05-imported');

  // Debug: list the tools, pick one by typing its name (its arguments are filled in), run it.
  await (await button(page, `Back to ${config.server}`)).click();
  await (await button(page, 'Debug')).click();
  await (await button(page, 'List tools')).click();
  await heading(page, '2 tools');
  const args = await control(page, 'Arguments (JSON)');
  await fill(page, 'Tool', 'getThing');
  const filled = JSON.parse(await args.evaluate((el) => el.value));
  if (JSON.stringify(filled) !== '{"thingId":0}') throw new Error(`getThing's arguments were filled as ${JSON.stringify(filled)}`);
  await fill(page, 'Arguments (JSON)', '{"thingId": 7}');
  await (await button(page, 'Run')).click();
  await shown(page, 'h3', '^Result in \\d+ ms$');
  await shown(page, 'pre.result', '/echo/things/7');
  await shot(page, '06-debug-result');
} catch (err) {
  failed = err;
} finally {
  clearTimeout(guard);
  await browser.close();
}
if (failed) {
  console.error(`firefox flow failed after ${Date.now() - started} ms: ${failed.stack || failed}`);
  process.exit(1);
}
if (pageErrors.length) {
  console.error(`the console threw in Firefox: ${JSON.stringify(pageErrors)}`);
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, ms: Date.now() - started, consoleErrors }));
