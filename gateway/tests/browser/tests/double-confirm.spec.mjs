// 6. A double-click on `#confirm` and a reload while the sale is being placed open exactly
// one line. The first POST reaches the gateway (which opens the order) but its answer is
// held back from the page, which is reloaded meanwhile: the reloaded page must ask for the
// sale made under its Idempotency-Key (it keeps no request body, which holds the ID), get
// the same order and show it done, and the card's SIM belongs to that one order.
import { expect, test } from '@playwright/test';
import { freshPerson, iccid, operator, reader, SIM_INDEX } from '../lib/sandbox.mjs';
import { done, pageFetch, ready, upToConfirm } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

const isSaleRequest = (r) => new URL(r.url()).pathname === '/terminal/api/sales' && r.method() === 'POST';
const BY_KEY = '/terminal/api/sales/by-key/';

test('double-click and reload during confirmation open exactly one line', async ({ page }) => {
  await ready(page, { where: 'cn', lang: 'en' });
  const card = iccid(SIM_INDEX.doubleConfirm, 'cn');
  await upToConfirm(page, { sim: card, person: freshPerson() });

  const keys = [];
  const asked = [];
  page.on('request', (r) => {
    if (isSaleRequest(r)) keys.push(r.headers()['idempotency-key']);
    const path = new URL(r.url()).pathname;
    if (path.startsWith(BY_KEY)) asked.push(decodeURIComponent(path.slice(BY_KEY.length)));
  });
  let first = null;
  let reached;
  const atGateway = new Promise((resolve) => { reached = resolve; });
  await page.route('**/terminal/api/sales', async (route) => {
    if (!isSaleRequest(route.request()) || first !== null) {
      await route.continue();
      return;
    }
    // The first sale request reaches the gateway; its answer never reaches the page.
    const resp = await route.fetch();
    first = { status: resp.status(), body: await resp.json() };
    reached();
  });

  await page.locator('#confirm').dblclick();
  await atGateway;
  expect(first.status, JSON.stringify(first.body)).toBe(202);
  await page.reload();
  await done(page);

  // One sale request (the double click sent one), and after the reload the page asked
  // for the sale under that same key instead of sending anything again.
  expect(keys.length, `sale requests: ${keys.join(', ')}`).toBe(1);
  expect(keys[0]).toBeTruthy();
  expect(asked, 'the reloaded page asked for its sale by key').toEqual([keys[0]]);
  // Nothing of the customer was kept in the browser's storage meanwhile.
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  expect(stored).not.toContain('resident_id');

  // The terminal's own sales: exactly one with this card, the first request's, active.
  const sales = await pageFetch(page, 'GET', '/terminal/api/sales');
  expect(sales.status, sales.text).toBe(200);
  const withCard = sales.json.sales.filter((o) => (o.iccid ?? o.sim?.iccid) === card);
  expect(withCard.map((o) => o.id)).toEqual([first.body.id]);
  expect(withCard[0].status).toBe('active');

  // The operator's view agrees: the SIM belongs to that order.
  const sim = await operator('GET', `/v1/sims/${card}`, undefined, 'cn');
  expect(sim.status, sim.text).toBe(200);
  expect(sim.json.activation_id).toBe(first.body.id);

  // And the recent sales list shows it once.
  await page.locator('#nav-recent').click();
  const rows = page.locator(`[data-testid=sale-row][data-order="${first.body.id}"]`);
  await expect(rows).toHaveCount(1);
  await expect(rows).toHaveAttribute('data-status', 'active');
});
