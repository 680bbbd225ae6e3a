// 5. A refusal from validate in plain words: the face match on the reader fails (score
// under the market's minimum), so the gateway refuses the sale with `face_check_failed`;
// the page shows the message file's text, not the code.
import { expect, test } from '@playwright/test';
import { message, messagePattern } from '../lib/messages.mjs';
import { freshPerson, iccid, reader, SIM_INDEX } from '../lib/sandbox.mjs';
import { autoNumber, chooseProduct, customer, physicalSim, productFor, ready, session, step } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test.afterEach(async () => {
  await reader.reset();
});

test('a refusal from validate is shown in plain words with its code', async ({ page }) => {
  await ready(page, { where: 'cn', lang: 'en' });
  const sess = await session(page);
  await chooseProduct(page, productFor(sess, 'physical').id);
  await physicalSim(page, iccid(SIM_INDEX.refusal, 'cn'));
  await autoNumber(page);
  await reader.setFaceMatch({ score: 0.42, liveness: true });
  const answer = await customer(page, sess, freshPerson());
  expect(answer.status()).toBe(422);
  expect((await answer.json()).code).toBe('face_check_failed');

  const refusal = page.locator('[data-testid=refusal]');
  await expect(refusal).toBeVisible();
  await expect(refusal).toHaveAttribute('data-code', 'face_check_failed');
  expect(message('en', 'error.face_check_failed')).toBeTruthy();
  await expect(refusal).toHaveText(messagePattern('en', 'error.face_check_failed'));
  await expect(refusal).not.toContainText('face_check_failed');
  // The sale did not move on.
  await expect(step(page, 'customer')).toBeVisible();
  await expect(step(page, 'confirm')).toBeHidden();
});
