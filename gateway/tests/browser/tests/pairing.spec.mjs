// 1. Pairing: a wrong code is refused in plain words; the right one opens the sign-in
// screen and sets the device cookie HttpOnly, Secure, SameSite=Strict; a code works once.
import { expect, test } from '@playwright/test';
import { messagePattern } from '../lib/messages.mjs';
import { pairingCode, reader } from '../lib/sandbox.mjs';
import { open, pair } from '../lib/terminal.mjs';

const isPair = (r) => new URL(r.url()).pathname === '/terminal/api/pair';

test.beforeEach(async () => {
  await reader.reset();
});

test('pairing: wrong code refused in plain words, right code pairs with a strict cookie', async ({ page, context, browser }) => {
  await open(page, 'en');
  await page.locator('#pair-code').fill('ZZZZ-ZZZZ');
  const refused = page.waitForResponse(isPair);
  await page.locator('#pair-submit').click();
  expect((await refused).status()).toBe(401);
  const error = page.locator('[data-testid=error]');
  await expect(error).toBeVisible();
  await expect(error).toHaveText(messagePattern('en', 'error.pairing_code_invalid'));
  await expect(error).not.toContainText('pairing_code_invalid');
  await expect(page.locator('#pair-code')).toBeVisible();
  expect((await context.cookies()).map((c) => c.name)).not.toContain('__Host-simgw-device');

  const code = pairingCode('cn');
  await pair(page, code);
  await expect(error).toBeHidden();
  const device = (await context.cookies()).find((c) => c.name === '__Host-simgw-device');
  expect(device, 'the device cookie is set').toBeTruthy();
  expect(device).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
  // __Host-: no Domain attribute, so the cookie stays with this host.
  expect(device.domain.startsWith('.')).toBe(false);
  // Neither the page's script nor anything else can read it.
  expect(await page.evaluate(() => document.cookie)).not.toContain('simgw-device');

  // The code worked once: another browser cannot pair with it.
  const other = await browser.newContext();
  const page2 = await other.newPage();
  await open(page2, 'en');
  await page2.locator('#pair-code').fill(code);
  const again = page2.waitForResponse(isPair);
  await page2.locator('#pair-submit').click();
  expect((await again).status()).toBe(401);
  await expect(page2.locator('[data-testid=error]')).toHaveText(messagePattern('en', 'error.pairing_code_invalid'));
  await other.close();
});
