// 6. A double-click on `#confirm` and a reload while the sale is being placed open exactly
// one line: every POST carries one Idempotency-Key, the reloaded page resumes the same
// sale and shows it done, and the card's SIM belongs to that one order.
import { expect, test } from '@playwright/test';
import { freshPerson, iccid, operator, reader, SIM_INDEX } from '../lib/sandbox.mjs';
import { done, isSalePost, pageFetch, ready, upToConfirm } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test('double-click and reload during confirmation open exactly one line', async ({ page }) => {
  await ready(page, { where: 'cn', lang: 'en' });
  const card = iccid(SIM_INDEX.doubleConfirm, 'cn');
  await upToConfirm(page, { sim: card, person: freshPerson() });

  const keys = [];
  const created = [];
  const isSaleRequest = (r) => new URL(r.url()).pathname === '/terminal/api/sales' && r.method() === 'POST';
  page.on('request', (r) => {
    if (isSaleRequest(r)) keys.push(r.headers()['idempotency-key']);
  });
  page.on('response', async (r) => {
    if (isSalePost(r) && r.status() === 202) created.push((await r.json()).id);
  });
  const sent = page.waitForRequest(isSaleRequest);
  await page.locator('#confirm').dblclick();
  await sent;
  // Reload while the order is being placed (its request sent, maybe not yet answered).
  await page.reload();
  await done(page);

  expect(keys.length).toBeGreaterThanOrEqual(1);
  expect(new Set(keys).size, `Idempotency-Keys: ${keys.join(', ')}`).toBe(1);
  expect(keys[0]).toBeTruthy();

  // The terminal's own sales: exactly one with this card, active.
  const sales = await pageFetch(page, 'GET', '/terminal/api/sales');
  expect(sales.status, sales.text).toBe(200);
  const withCard = sales.json.sales.filter((o) => (o.iccid ?? o.sim?.iccid) === card);
  expect(withCard.map((o) => o.id)).toHaveLength(1);
  const [order] = withCard;
  expect(order.status).toBe('active');
  for (const id of created) expect(id).toBe(order.id);

  // The operator's view agrees: the SIM belongs to that order.
  const sim = await operator('GET', `/v1/sims/${card}`, undefined, 'cn');
  expect(sim.status, sim.text).toBe(200);
  expect(sim.json.activation_id).toBe(order.id);

  // And the recent sales list shows it once.
  await page.locator('#nav-recent').click();
  const rows = page.locator(`[data-testid=sale-row][data-order="${order.id}"]`);
  await expect(rows).toHaveCount(1);
  await expect(rows).toHaveAttribute('data-status', 'active');
});
