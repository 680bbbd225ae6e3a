// 4. An eSIM sale whose on-screen QR (a screenshot of `#esim-qr` decoded with zbarimg)
// is `LPA:` + the activation code shown beside it. Sold in the sandbox tenant's store,
// the one whose product has eSIM profiles.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { freshPerson, reader } from '../lib/sandbox.mjs';
import { ready, sell } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test('eSIM sale: the QR on screen holds LPA: + the activation code', async ({ page }, testInfo) => {
  await ready(page, { where: 'sandbox', lang: 'en' });
  await sell(page, { sim: 'esim', person: freshPerson() });
  const qr = page.locator('#esim-qr');
  await expect(qr).toBeVisible();
  // The image has loaded (an <img> of qr.svg).
  await expect.poll(() => qr.evaluate((img) => img.complete && img.naturalWidth > 0)).toBe(true);
  const code = (await page.locator('[data-testid=activation-code]').innerText()).trim();
  expect(code).toMatch(/^1\$/);

  const png = testInfo.outputPath('esim-qr.png');
  await qr.screenshot({ path: png, animations: 'disabled' });
  const decoded = execFileSync('zbarimg', ['--raw', '-q', png], { encoding: 'utf8' }).trim();
  expect(decoded).toBe(`LPA:${code}`);
});
