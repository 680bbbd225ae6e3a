// After-sales in the cn store (docs/terminal.md, lines): a line sold on the terminal is
// looked up by its ICCID; C1 (the sandbox store's supervisor) suspends it as lost or
// stolen, resumes it and swaps its SIM, each confirmed in the page's own dialog and
// followed until the line changed; C2 (a sales clerk) looks it up too but gets no
// action buttons, and were they offered, the gateway's `clerk_not_supervisor` is shown
// in plain words.
//
// C2 must not be locked out yet: clerk.spec.mjs locks it, and runs after this file.
import { expect, test } from '@playwright/test';
import { message, messagePattern } from '../lib/messages.mjs';
import { freshPerson, operator, reader, secondClerk } from '../lib/sandbox.mjs';
import { ready, sell, session, signIn } from '../lib/terminal.mjs';
import { FROM_END, iccidFromEnd, shownMsisdn } from '../lib/extra.mjs';

const path = (r) => new URL(r.url()).pathname;
const isAction = (msisdn, op) => (r) => path(r) === `/terminal/api/lines/${msisdn}/${op}` && r.request().method() === 'POST';

const line = (page) => page.locator('[data-testid=line]');

test.beforeEach(async () => {
  await reader.reset();
});

/// Opens after-sales and looks `query` up.
async function lookUp(page, query) {
  await page.locator('#nav-lines').click();
  await expect(page.locator('#line-query')).toBeVisible();
  await page.locator('#line-query').fill(query);
  await page.locator('#line-find').click();
  await expect(line(page)).toBeVisible();
}

/// Clicks `button`, confirms in the page's dialog and waits until the line shows `until`
/// (an attribute of `[data-testid=line]` and its value); resolves to the action's request.
async function act(page, button, msisdn, op, [attr, value]) {
  await page.locator(button).click();
  const dialog = page.locator('#confirm-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.locator('#confirm-dialog-text')).toContainText(shownMsisdn(msisdn));
  const sent = page.waitForResponse(isAction(msisdn, op));
  await page.locator('#confirm-dialog-ok').click();
  const r = await sent;
  expect(r.status(), await r.text()).toBe(202);
  await expect(dialog).toBeHidden();
  await expect(line(page)).toHaveAttribute(attr, value, { timeout: 60_000 });
  await expect(page.locator('[data-testid=line-progress]')).toHaveAttribute('data-status', 'done');
  return r.request();
}

test('a supervisor suspends, resumes and swaps a line; a sales clerk gets no actions', async ({ page }) => {
  const shop = await ready(page, { where: 'cn', lang: 'en' });
  const card = iccidFromEnd(FROM_END.afterSales, 'cn');
  const newCard = iccidFromEnd(FROM_END.afterSalesSwap, 'cn');
  const sold = await sell(page, { sim: card, person: freshPerson() });
  const order = await operator('GET', `/v1/activations/${encodeURIComponent(sold.id)}`, undefined, 'cn');
  expect(order.status, order.text).toBe(200);
  const msisdn = order.json.msisdn;
  expect(msisdn).toMatch(/^\d{8,15}$/);

  const sess = await session(page);
  expect(sess.clerk).toMatchObject({ id: shop.clerk, role: 'supervisor', rights: { after_sales: true } });

  // A card number with a wrong check digit is caught in the page, in plain words.
  await page.locator('#nav-lines').click();
  const wrong = card.slice(0, -1) + String((Number(card.slice(-1)) + 1) % 10);
  await page.locator('#line-query').fill(wrong);
  await page.locator('#line-find').click();
  await expect(page.locator('[data-testid=error]')).toHaveText(message('en', 'lines.iccid_bad_check'));

  // Looked up by its ICCID: the line, in words.
  await lookUp(page, card);
  await expect(line(page)).toHaveAttribute('data-state', 'active');
  await expect(line(page)).toHaveAttribute('data-msisdn', msisdn);
  await expect(line(page)).toContainText(card);
  await expect(line(page)).toContainText(message('en', 'linestate.active'));
  await expect(page.locator('#line-suspend')).toBeVisible();
  await expect(page.locator('#line-resume')).toBeHidden();

  // Cancelling the dialog sends nothing.
  let posted = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && path(r).startsWith('/terminal/api/lines/')) posted += 1;
  });
  await page.locator('#line-suspend').click();
  await expect(page.locator('#confirm-dialog')).toBeVisible();
  await page.locator('#confirm-dialog-cancel').click();
  await expect(page.locator('#confirm-dialog')).toBeHidden();
  expect(posted).toBe(0);

  // Suspend: lost or stolen. The first request is lost on the network; the page sends
  // it again with the same Idempotency-Key, so the line is suspended once.
  const keys = [];
  page.on('request', (r) => {
    if (path(r) === `/terminal/api/lines/${msisdn}/suspend` && r.method() === 'POST') keys.push(r.headers()['idempotency-key']);
  });
  let lost = false;
  await page.route(`**/terminal/api/lines/${msisdn}/suspend`, (route) => {
    if (lost) return route.continue();
    lost = true;
    return route.abort('connectionreset');
  });
  const suspend = await act(page, '#line-suspend', msisdn, 'suspend', ['data-state', 'suspended']);
  await page.unroute(`**/terminal/api/lines/${msisdn}/suspend`);
  expect(keys.length).toBeGreaterThanOrEqual(2);
  expect(new Set(keys).size, `Idempotency-Keys: ${keys.join(', ')}`).toBe(1);
  expect(suspend.headers()['idempotency-key']).toBe(keys[0]);
  await expect(line(page)).toContainText(message('en', 'reason.lost_or_stolen'));
  await expect(page.locator('#line-resume')).toBeVisible();
  await expect(page.locator('#line-suspend')).toBeHidden();
  let sub = await operator('GET', `/v1/subscriptions/${msisdn}`, undefined, 'cn');
  expect(sub.json).toMatchObject({ state: 'suspended', suspension_reasons: ['lost_or_stolen'] });

  // Resume: found again.
  const resume = await act(page, '#line-resume', msisdn, 'resume', ['data-state', 'active']);
  expect(resume.headers()['idempotency-key']).not.toBe(suspend.headers()['idempotency-key']);
  await expect(page.locator('#line-resume')).toBeHidden();
  sub = await operator('GET', `/v1/subscriptions/${msisdn}`, undefined, 'cn');
  expect(sub.json).toMatchObject({ state: 'active', suspension_reasons: [] });

  // SIM swap to a new card.
  await page.locator('#swap-iccid').fill(newCard);
  await expect(page.locator('[data-testid=swap-iccid-status]')).toHaveAttribute('data-state', 'ok');
  const swap = await act(page, '#line-swap', msisdn, 'sim-swap', ['data-iccid', newCard]);
  expect(swap.postDataJSON()).toEqual({ sim: { type: 'physical', iccid: newCard } });
  sub = await operator('GET', `/v1/subscriptions/${msisdn}`, undefined, 'cn');
  expect(sub.json.iccid).toBe(newCard);
  // In cn a SIM swap asks the subscriber to verify again (`pending_verification`): the
  // line stays in service meanwhile.
  const afterSwap = sub.json.state;
  expect(['active', 'pending_verification']).toContain(afterSwap);
  await expect(line(page)).toHaveAttribute('data-state', afterSwap);

  // A sales clerk: the line, but no action buttons.
  await page.locator('#sign-out').click();
  await expect(page.locator('#clerk-id')).toBeVisible();
  const c2 = secondClerk('cn');
  await signIn(page, c2.clerk, c2.pin);
  const sess2 = await session(page);
  expect(sess2.clerk).toMatchObject({ id: c2.clerk, role: 'sales', rights: { after_sales: false } });
  await lookUp(page, msisdn);
  await expect(line(page)).toHaveAttribute('data-state', afterSwap);
  await expect(line(page)).toHaveAttribute('data-iccid', newCard);
  for (const id of ['#line-suspend', '#line-resume', '#line-swap', '#swap-iccid']) {
    await expect(page.locator(id)).toHaveCount(0);
  }
  await expect(page.locator('#line-supervisor-only')).toBeVisible();

  // Were the page to offer the actions anyway (a session forged to claim the right), the
  // gateway refuses and the page says so in plain words; the line is unchanged.
  await page.route('**/terminal/api/session', async (route) => {
    const resp = await route.fetch();
    const json = await resp.json();
    if (json.clerk) json.clerk.rights = { ...json.clerk.rights, after_sales: true };
    await route.fulfill({ response: resp, json });
  });
  await page.reload();
  await lookUp(page, msisdn);
  await page.locator('#line-suspend').click();
  const sent = page.waitForResponse(isAction(msisdn, 'suspend'));
  await page.locator('#confirm-dialog-ok').click();
  expect((await sent).status()).toBe(403);
  const error = page.locator('[data-testid=error]');
  await expect(error).toHaveText(messagePattern('en', 'error.clerk_not_supervisor'));
  await expect(error).not.toContainText('clerk_not_supervisor');
  await expect(line(page)).toHaveAttribute('data-state', afterSwap);
  await expect(page.locator('[data-testid=line-progress]')).toBeHidden();
  await page.unroute('**/terminal/api/session');
});
