// 10. The README's screenshots of the terminal, one per step, in English and Chinese:
// docs/screenshots/terminal-<step>-<lang>.png (SIMGW_SCREENSHOT_DIR overrides the
// directory). Fixed viewport (1024×768), locale, time zone, people and cards, so a rerun
// changes only what really changed (order ids, times and numbers excepted).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { iccid, pairingCode, person, reader, shop, SIM_INDEX } from '../lib/sandbox.mjs';
import {
  autoNumber, chooseProduct, confirm, done, esim, open, pair, physicalSim, productFor, readCard, session, signIn, step,
} from '../lib/terminal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.env.SIMGW_SCREENSHOT_DIR || path.join(here, '../../../../docs/screenshots'));

/// Writes the screenshot of `name` in `lang`, once the page is still.
async function shot(page, name, lang) {
  fs.mkdirSync(outDir, { recursive: true });
  // No focus ring or caret on whatever the test touched last; fonts loaded.
  await page.evaluate(async () => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    await document.fonts.ready;
  });
  await page.screenshot({ path: path.join(outDir, `terminal-${name}-${lang}.png`), animations: 'disabled', caret: 'hide' });
}

for (const lang of ['en', 'zh-CN']) {
  test.describe(`screenshots ${lang}`, () => {
    test.use({ locale: lang === 'en' ? 'en-US' : 'zh-CN' });

    test.beforeEach(async () => {
      await reader.reset();
    });

    test(`physical sale and recent sales (${lang})`, async ({ page }) => {
      const s = shop('cn');
      await open(page);
      await expect(page.locator('html')).toHaveAttribute('lang', lang);
      await shot(page, 'pair', lang);
      await pair(page, pairingCode('cn'));
      await shot(page, 'sign-in', lang);
      await signIn(page, s.clerk, s.pin);
      await shot(page, 'product', lang);

      const sess = await session(page);
      await chooseProduct(page, productFor(sess, 'physical').id);
      await page.locator('#iccid').fill(iccid(SIM_INDEX.shots[lang], 'cn'));
      await expect(page.locator('#sim-next')).toBeEnabled();
      await shot(page, 'sim', lang);
      await physicalSim(page, iccid(SIM_INDEX.shots[lang], 'cn'));
      // The number page (golden numbers marked), then back to an automatic number.
      await page.locator('#number-pick').check();
      await expect(page.locator('[data-testid=number-option]').first()).toBeVisible();
      await shot(page, 'number', lang);
      await page.locator('#number-auto').check();
      await autoNumber(page);
      // The same person each run: the screenshot shows the same masked card.
      await readCard(page, person(lang === 'en' ? 1 : 2));
      await page.locator('#risk-signed').check();
      await shot(page, 'customer', lang);
      await page.locator('#validate').click();
      await expect(step(page, 'confirm')).toBeVisible();
      await shot(page, 'confirm', lang);
      await confirm(page);
      await done(page);
      await expect(page.locator('[data-testid=insert-card]')).toBeVisible();
      await shot(page, 'done-physical', lang);

      await page.locator('#nav-recent').click();
      await expect(page.locator('[data-testid=sale-row]').first()).toBeVisible();
      await shot(page, 'recent', lang);

      // After-sales: the line found by its card, with the supervisor's actions.
      await page.locator('#nav-lines').click();
      await page.locator('#line-query').fill(iccid(SIM_INDEX.shots[lang], 'cn'));
      await page.locator('#line-find').click();
      await expect(page.locator('[data-testid=line]')).toBeVisible();
      await expect(page.locator('#line-suspend')).toBeVisible();
      await shot(page, 'after-sales', lang);
    });

    test(`eSIM sale (${lang})`, async ({ page }) => {
      const s = shop('sandbox');
      await open(page);
      await pair(page, pairingCode('sandbox'));
      await signIn(page, s.clerk, s.pin);
      const sess = await session(page);
      const product = productFor(sess, 'esim');
      expect(product, `the sandbox tenant sells no eSIM: ${JSON.stringify(sess.products)}`).toBeTruthy();
      await chooseProduct(page, product.id);
      await esim(page);
      await autoNumber(page);
      if (sess.identity?.capture === 'card_reader' || sess.identity?.required) {
        throw new Error(`the sandbox tenant's eSIM screenshot expects no required identity: ${JSON.stringify(sess.identity)}`);
      }
      await page.locator('#risk-signed').check();
      await page.locator('#validate').click();
      await confirm(page);
      await done(page);
      const qr = page.locator('#esim-qr');
      await expect(qr).toBeVisible();
      await expect.poll(() => qr.evaluate((img) => img.complete && img.naturalWidth > 0)).toBe(true);
      await shot(page, 'done-esim', lang);
    });
  });
}
