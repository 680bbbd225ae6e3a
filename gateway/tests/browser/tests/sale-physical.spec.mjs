// 3. A physical sale end to end in the cn store: product, ICCID typed, the next free
// number, the card read on the reader, the face match, the risk notice, validate,
// confirm, `active`, and the insert-card message; the order is attributed to the store,
// terminal and clerk of the sessions.
import { expect, test } from '@playwright/test';
import { freshPerson, iccid, operator, reader, SIM_INDEX } from '../lib/sandbox.mjs';
import { ready, sell } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test('physical sale in the cn store, attributed to store, terminal and clerk', async ({ page }) => {
  const shop = await ready(page, { where: 'cn', lang: 'en' });
  const card = iccid(SIM_INDEX.physicalSale, 'cn');
  const order = await sell(page, { sim: card, person: freshPerson() });
  await expect(page.locator('[data-testid=insert-card]')).toBeVisible();
  await expect(page.locator('#esim-qr')).toBeHidden();

  const r = await operator('GET', `/v1/activations/${encodeURIComponent(order.id)}`, undefined, 'cn');
  expect(r.status, r.text).toBe(200);
  expect(r.json.status).toBe('active');
  expect(r.json.iccid).toBe(card);
  expect(r.json.channel).toMatchObject({ store_id: shop.store, terminal_id: shop.terminal, staff_id: shop.clerk });
});
