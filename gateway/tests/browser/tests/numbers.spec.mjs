// Picking a number in the cn store (docs/terminal.md, numbers and holds): golden numbers
// are labelled and cannot be picked (sandbox-cn keeps them from stores); a pick takes a
// hold, another pick releases it first, and the sale gets exactly the number picked; a
// reload keeps the hold; leaving the sale (a new sale, signing out) frees the number; a
// number taken elsewhere meanwhile is refused in plain words and the list is refreshed.
import { expect, test } from '@playwright/test';
import { message, messagePattern } from '../lib/messages.mjs';
import { freshPerson, operator, reader } from '../lib/sandbox.mjs';
import {
  chooseProduct, confirm, customer, done, pageFetch, physicalSim, productFor, ready, session, signIn, step,
} from '../lib/terminal.mjs';
import { FROM_END, iccidFromEnd, operatorWith, shownMsisdn } from '../lib/extra.mjs';

const path = (r) => new URL(r.url()).pathname;
const isHoldPost = (r) => path(r) === '/terminal/api/holds' && r.request().method() === 'POST';
const isHoldDelete = (id) => (r) => path(r) === `/terminal/api/holds/${id}` && r.request().method() === 'DELETE';

const options = (page) => page.locator('[data-testid=number-option]');
const option = (page, msisdn) => page.locator(`[data-testid=number-option][data-msisdn="${msisdn}"]`);

test.beforeEach(async () => {
  await reader.reset();
});

/// Product and SIM of a physical sale, then the number step.
async function toNumberStep(page, card) {
  const sess = await session(page);
  await chooseProduct(page, productFor(sess, 'physical').id);
  await physicalSim(page, card);
  await expect(step(page, 'number')).toBeVisible();
  return sess;
}

/// Switches to picking and waits for the first page of numbers.
async function openPicker(page) {
  await expect(page.locator('#number-auto')).toBeChecked();
  await page.locator('#number-pick').check();
  await expect(options(page).first()).toBeVisible();
}

/// The msisdns of the first page of free numbers, as the page API lists them.
async function listed(page) {
  const r = await pageFetch(page, 'GET', '/terminal/api/numbers');
  expect(r.status, r.text).toBe(200);
  return r.json.numbers.map((n) => n.msisdn);
}

/// The first `n` ordinary numbers offered on the page.
async function ordinary(page, n) {
  const usable = page.locator('[data-testid=number-option][data-golden="false"]:not([disabled])');
  await expect(usable.nth(n - 1)).toBeVisible();
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(await usable.nth(i).getAttribute('data-msisdn'));
  return out;
}

/// Clicks the option of `msisdn`; resolves to the hold the gateway answered (201).
async function pick(page, msisdn) {
  const answer = page.waitForResponse(isHoldPost);
  await option(page, msisdn).click();
  const r = await answer;
  expect(r.status(), await r.text()).toBe(201);
  expect(r.request().headers()['idempotency-key']).toBeTruthy();
  const hold = await r.json();
  expect(hold).toMatchObject({ msisdn, status: 'held' });
  const held = page.locator('[data-testid=held-number]');
  await expect(held).toBeVisible();
  await expect(held).toHaveAttribute('data-msisdn', msisdn);
  await expect(held).toContainText(shownMsisdn(msisdn));
  await expect(option(page, msisdn)).toHaveAttribute('aria-pressed', 'true');
  return { hold, key: r.request().headers()['idempotency-key'] };
}

test('golden numbers are not offered in sandbox-cn; the sale gets exactly the number picked', async ({ page }) => {
  await ready(page, { where: 'cn', lang: 'en' });
  const card = iccidFromEnd(FROM_END.numbersSale, 'cn');
  const sess = await toNumberStep(page, card);
  await openPicker(page);

  // Golden numbers (…0000, …0011, … are on the first page): labelled, disabled, explained.
  const golden = page.locator('[data-testid=number-option][data-golden="true"]');
  expect(await golden.count()).toBeGreaterThan(0);
  for (const g of await golden.all()) {
    await expect(g).toBeDisabled();
    await expect(g).toContainText(message('en', 'number.golden'));
  }
  await expect(page.locator('#number-golden-note')).toBeVisible();
  await expect(page.locator('#number-golden-note')).toHaveText(message('en', 'number.golden_not_sold'));

  // Pick one number, then another: the first hold is released before the second is taken.
  const [first, second] = await ordinary(page, 2);
  const a = await pick(page, first);
  expect(await listed(page)).not.toContain(first);
  const released = page.waitForResponse(isHoldDelete(a.hold.id));
  const b = await pick(page, second);
  expect((await released).status()).toBe(204);
  expect(b.key).not.toBe(a.key);
  await expect(option(page, first)).toHaveAttribute('aria-pressed', 'false');
  const free = await listed(page);
  expect(free).toContain(first);
  expect(free).not.toContain(second);

  // The sale names the hold and gets exactly that number.
  await page.locator('#number-next').click();
  await expect(step(page, 'customer')).toBeVisible();
  const v = await customer(page, sess, freshPerson());
  expect(v.status(), await v.text()).toBe(200);
  expect(v.request().postDataJSON().msisdn).toEqual({ mode: 'reservation', reservation_id: b.hold.id });
  await expect(page.locator('[data-testid=summary]')).toContainText(shownMsisdn(second));
  const order = await confirm(page);
  await done(page);

  const r = await operator('GET', `/v1/activations/${encodeURIComponent(order.id)}`, undefined, 'cn');
  expect(r.status, r.text).toBe(200);
  expect(r.json.status).toBe('active');
  expect(r.json.msisdn).toBe(second);
  expect(r.json.iccid).toBe(card);
});

test('a reload keeps the hold; leaving the sale or signing out frees the number', async ({ page }) => {
  const shop = await ready(page, { where: 'cn', lang: 'en' });
  const card = iccidFromEnd(FROM_END.numbersAbandon, 'cn');
  await toNumberStep(page, card);
  await openPicker(page);
  const [number] = await ordinary(page, 1);
  const { hold } = await pick(page, number);
  expect(await listed(page)).not.toContain(number);

  // A reload comes back to the number step with the same hold.
  await page.reload();
  await expect(step(page, 'number')).toBeVisible();
  await expect(page.locator('#number-pick')).toBeChecked();
  await expect(page.locator('[data-testid=held-number]')).toHaveAttribute('data-msisdn', number);

  // A new sale abandons this one: its hold is released and the number is listed again.
  const released = page.waitForResponse(isHoldDelete(hold.id));
  await page.locator('#nav-sale').click();
  expect((await released).status()).toBe(204);
  await expect(step(page, 'product')).toBeVisible();
  expect(await listed(page)).toContain(number);

  // The page offers it again; picked once more, signing out gives it back before the
  // clerk's session ends.
  await toNumberStep(page, card);
  await openPicker(page);
  await expect(option(page, number)).toBeEnabled();
  const again = await pick(page, number);
  const releasedAgain = page.waitForResponse(isHoldDelete(again.hold.id));
  await page.locator('#sign-out').click();
  expect((await releasedAgain).status()).toBe(204);
  await expect(page.locator('#clerk-id')).toBeVisible();
  await signIn(page, shop.clerk, shop.pin);
  expect(await listed(page)).toContain(number);
});

test('a number taken meanwhile is refused in plain words and the list is refreshed', async ({ page }) => {
  await ready(page, { where: 'cn', lang: 'en' });
  await toNumberStep(page, iccidFromEnd(FROM_END.numbersAbandon, 'cn'));
  await openPicker(page);
  const [, , taken] = await ordinary(page, 3);

  // Another channel (the operator API) reserves it while the page still offers it.
  const r = await operatorWith('POST', '/v1/numbers/reservations', { msisdn: taken }, { 'idempotency-key': `numbers-spec-${Date.now()}` });
  expect(r.status, r.text).toBe(201);

  const answer = page.waitForResponse(isHoldPost);
  await option(page, taken).click();
  const refused = await answer;
  expect([409, 422]).toContain(refused.status());
  expect((await refused.json()).code).toBe('msisdn_not_available');
  const error = page.locator('[data-testid=error]');
  await expect(error).toHaveText(messagePattern('en', 'error.msisdn_not_available'));
  await expect(error).not.toContainText('msisdn_not_available');
  await expect(option(page, taken)).toHaveCount(0);
  await expect(page.locator('[data-testid=held-number]')).toBeHidden();
});
