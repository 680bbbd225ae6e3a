// 7. The language switch: `#lang` to zh-CN changes the visible text (the sign-in button)
// and `html[lang]`, and back to English.
import { expect, test } from '@playwright/test';
import { message } from '../lib/messages.mjs';
import { pairingCode, reader } from '../lib/sandbox.mjs';
import { chooseLanguage, open, pair } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test('language switch to zh-CN and back', async ({ page }) => {
  await open(page, 'en');
  await pair(page, pairingCode('cn'));
  const button = page.locator('#sign-in-submit');
  const en = message('en', 'sign_in.submit');
  const zh = message('zh-CN', 'sign_in.submit');
  expect(zh).not.toBe(en);
  await expect(button).toHaveText(en);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  await chooseLanguage(page, 'zh-CN');
  await expect(button).toHaveText(zh);
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.locator('label[for=clerk-pin]')).toHaveText(message('zh-CN', 'sign_in.pin'));

  await chooseLanguage(page, 'en');
  await expect(button).toHaveText(en);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});
