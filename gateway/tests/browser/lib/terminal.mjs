// The terminal page driven as a clerk would, through the ids and test ids of
// docs/terminal.md ("Page structure the browser tests rely on"). `where` names a shop of
// lib/sandbox.mjs (`cn`, `sandbox`, ...).
import { expect } from '@playwright/test';
import { pairingCode, reader, sandbox, shop } from './sandbox.mjs';

/// The page's URL.
export const terminalUrl = () => `${sandbox().base_url}/terminal/`;

/// The sale step `name` (`product`, `sim`, `number`, `customer`, `confirm`, `done`).
export const step = (page, name) => page.locator(`section[data-step="${name}"]`);

/// Opens the page (in `lang` when given).
export async function open(page, lang) {
  await page.goto(terminalUrl());
  await expect(page.locator('#pair-code, #clerk-id, section[data-step]:visible').first()).toBeVisible();
  if (lang) await chooseLanguage(page, lang);
}

/// Selects a language in `#lang` and waits for the page to switch.
export async function chooseLanguage(page, lang) {
  await page.locator('#lang').selectOption(lang);
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

/// Pairs with `code` and waits for the sign-in screen.
export async function pair(page, code) {
  await page.locator('#pair-code').fill(code);
  await page.locator('#pair-submit').click();
  await expect(page.locator('#clerk-id')).toBeVisible();
}

/// Signs `clerk` in and waits for the product step.
export async function signIn(page, clerk, pin) {
  await page.locator('#clerk-id').fill(clerk);
  await page.locator('#clerk-pin').fill(pin);
  await page.locator('#sign-in-submit').click();
  await expect(step(page, 'product')).toBeVisible();
}

/// Opens the page, pairs the shop's terminal afresh and signs its first clerk in.
export async function ready(page, { where = 'cn', lang } = {}) {
  const s = shop(where);
  await open(page, lang);
  await pair(page, pairingCode(where));
  await signIn(page, s.clerk, s.pin);
  return s;
}

/// A same-origin call from the page (its cookies; `X-CSRF-Token` when `csrf` is given).
export async function pageFetch(page, method, path, { body, csrf, headers = {} } = {}) {
  return page.evaluate(async ({ method, path, body, csrf, headers }) => {
    const h = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (csrf) h['x-csrf-token'] = csrf;
    const r = await fetch(path, {
      method, headers: h, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = null; }
    return { status: r.status, json, text };
  }, { method, path, body, csrf, headers });
}

/// The session as the page's own fetch sees it.
export async function session(page) {
  const r = await pageFetch(page, 'GET', '/terminal/api/session');
  expect(r.status, r.text).toBe(200);
  return r.json;
}

/// The first product of the session that sells `kind` (`physical`, `esim`), if any.
export function productFor(sess, kind) {
  return (sess.products ?? []).find((p) => p[kind]);
}

/// Chooses `product` on the product step.
export async function chooseProduct(page, product) {
  await step(page, 'product').locator(`[data-testid="product-${product}"]`).click();
  await expect(step(page, 'sim')).toBeVisible();
}

/// Types a physical card's ICCID and ends with Enter, as a barcode scanner does.
export async function physicalSim(page, iccid) {
  const physical = page.locator('#sim-physical');
  if (await physical.isVisible()) await physical.check();
  await page.locator('#iccid').fill(iccid);
  await expect(page.locator('[data-testid=iccid-status]')).not.toBeEmpty();
  await expect(page.locator('#sim-next')).toBeEnabled();
  await page.locator('#iccid').press('Enter');
  await goOn(page, '#sim-next', 'number');
}

/// Chooses an eSIM and goes on.
export async function esim(page) {
  await page.locator('#sim-esim').check();
  await goOn(page, '#sim-next', 'number');
}

/// Keeps the automatic number and goes on to the customer.
export async function autoNumber(page) {
  await expect(page.locator('#number-auto')).toBeChecked();
  await goOn(page, '#number-next', 'customer');
}

/// Clicks `button` unless the page already moved to `next`, then waits for `next`.
async function goOn(page, button, next) {
  if (!(await step(page, next).isVisible())) await page.locator(button).click();
  await expect(step(page, next)).toBeVisible();
}

const fromReader = (path) => (r) => r.url().startsWith(sandbox().id_reader_url) && new URL(r.url()).pathname === path;

/// Places `person`'s card on the reader, reads it on the page and matches the face.
export async function readCard(page, person) {
  await reader.placeCard(person);
  const read = page.waitForResponse(fromReader('/v1/card'));
  await page.locator('#read-card').click();
  expect((await read).status()).toBe(200);
  const summary = page.locator('[data-testid=card-summary]');
  await expect(summary).toBeVisible();
  await expect(summary).toContainText(person.id_number.slice(-4));
  await expect(summary).not.toContainText(person.id_number);
  const face = page.locator('#face-match');
  if (await face.isVisible()) {
    await expect(face).toBeEnabled();
    const matched = page.waitForResponse(fromReader('/v1/face-match'));
    await face.click();
    expect((await matched).status()).toBe(200);
    await expect(face).toBeEnabled();
  }
}

/// Types `person` into the manual fields (shops that allow typing an ID).
export async function typeCustomer(page, person, { idType = 'passport', nationality = 'GBR' } = {}) {
  await page.locator('#customer-name').fill(person.name);
  await page.locator('#id-type').selectOption(idType);
  await page.locator('#id-number').fill(person.id_number);
  await page.locator('#customer-nationality').fill(nationality);
}

/// The customer step as the session asks for it (the reader, typed, or nothing), the
/// signed risk notice, then `#validate`; resolves to validate's response.
export async function customer(page, sess, person) {
  if (sess.identity?.capture === 'card_reader') {
    await readCard(page, person);
  } else if (sess.identity?.required) {
    await typeCustomer(page, person);
  }
  await page.locator('#risk-signed').check();
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/terminal/api/sales/validate');
  await page.locator('#validate').click();
  return answer;
}

/// Whether `r` answers `POST /terminal/api/sales` (the sale itself).
export const isSalePost = (r) => new URL(r.url()).pathname === '/terminal/api/sales' && r.request().method() === 'POST';

/// Confirms the sale; resolves to the order the gateway answered with (202).
export async function confirm(page) {
  await expect(step(page, 'confirm')).toBeVisible();
  await expect(page.locator('[data-testid=summary]')).toBeVisible();
  const created = page.waitForResponse(isSalePost);
  await page.locator('#confirm').click();
  const resp = await created;
  expect(resp.status(), await resp.text()).toBe(202);
  return resp.json();
}

/// Waits for the done step of a finished sale (the order `active`).
export async function done(page) {
  await expect(step(page, 'done')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-testid=done]')).toBeVisible();
  await expect(page.locator('[data-testid=progress]')).toHaveAttribute('data-status', 'active');
}

/// Product, SIM, number and customer of a sale up to the confirm step.
export async function upToConfirm(page, { sim, person, product }) {
  const sess = await session(page);
  const kind = sim === 'esim' ? 'esim' : 'physical';
  const p = product ?? productFor(sess, kind)?.id;
  if (!p) throw new Error(`${sess.tenant}'s session offers no ${kind} product: ${JSON.stringify(sess.products)}`);
  await chooseProduct(page, p);
  if (sim === 'esim') await esim(page);
  else await physicalSim(page, sim);
  await autoNumber(page);
  const v = await customer(page, sess, person);
  expect(v.status(), await v.text()).toBe(200);
  await expect(step(page, 'confirm')).toBeVisible();
  return sess;
}

/// A whole sale (`sim`: an ICCID, or `esim`); resolves to the order as created.
export async function sell(page, opts) {
  await upToConfirm(page, opts);
  const order = await confirm(page);
  await done(page);
  return order;
}
