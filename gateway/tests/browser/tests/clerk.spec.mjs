// 2. Clerk sign-in and lock-out: five wrong PINs lock the clerk (`clerk_locked`, in plain
// words), and then even the right PIN is refused. Uses the store's second clerk, so the
// other tests keep selling with the first.
import { expect, test } from '@playwright/test';
import { messagePattern } from '../lib/messages.mjs';
import { pairingCode, reader, secondClerk } from '../lib/sandbox.mjs';
import { open, pair, step } from '../lib/terminal.mjs';

const isSignIn = (r) => new URL(r.url()).pathname === '/terminal/api/sign-in';

test.beforeEach(async () => {
  await reader.reset();
});

async function tryPin(page, clerk, pin) {
  await page.locator('#clerk-id').fill(clerk);
  await page.locator('#clerk-pin').fill(pin);
  const answer = page.waitForResponse(isSignIn);
  await page.locator('#sign-in-submit').click();
  const r = await answer;
  return { status: r.status(), body: await r.json().catch(() => null) };
}

test('clerk lock-out: five wrong PINs lock the clerk, then the right PIN is refused too', async ({ page }) => {
  const { clerk, pin } = secondClerk('cn');
  const wrong = pin === '000000' ? '111111' : '000000';
  await open(page, 'en');
  await pair(page, pairingCode('cn'));
  const error = page.locator('[data-testid=error]');

  for (let i = 1; i <= 4; i += 1) {
    const r = await tryPin(page, clerk, wrong);
    expect(r.status, `wrong PIN ${i}`).toBe(401);
    expect(r.body?.code).toBe('clerk_sign_in_failed');
    await expect(error).toBeVisible();
    await expect(error).toHaveText(messagePattern('en', 'error.clerk_sign_in_failed'));
    await expect(error).not.toContainText('clerk_sign_in_failed');
  }
  const fifth = await tryPin(page, clerk, wrong);
  expect([401, 423]).toContain(fifth.status);

  // Locked now: the right PIN is refused, in plain words.
  const right = await tryPin(page, clerk, pin);
  expect(right.status).toBe(423);
  expect(right.body?.code).toBe('clerk_locked');
  await expect(error).toBeVisible();
  await expect(error).toHaveText(messagePattern('en', 'error.clerk_locked'));
  await expect(error).not.toContainText('clerk_locked');
  await expect(page.locator('#clerk-id')).toBeVisible();
  await expect(step(page, 'product')).toBeHidden();
});
