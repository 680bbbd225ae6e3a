// 8. In a cn store the clerk cannot type an ID: the customer step has the reader and no
// manual ID inputs at all.
import { expect, test } from '@playwright/test';
import { iccid, reader, SIM_INDEX } from '../lib/sandbox.mjs';
import { autoNumber, chooseProduct, physicalSim, productFor, ready, session, step } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test('cn store: no ID number can be typed on the customer step', async ({ page }) => {
  await ready(page, { where: 'cn', lang: 'en' });
  const sess = await session(page);
  expect(sess.identity).toMatchObject({ required: true, capture: 'card_reader' });
  await chooseProduct(page, productFor(sess, 'physical').id);
  await physicalSim(page, iccid(SIM_INDEX.cardReaderOnly, 'cn'));
  await autoNumber(page);
  await expect(step(page, 'customer')).toBeVisible();
  await expect(page.locator('#read-card')).toBeVisible();
  for (const id of ['#id-number', '#id-type', '#customer-name', '#customer-nationality']) {
    await expect(page.locator(id), id).toHaveCount(0);
  }
});
