// 9. Security: no request the page makes carries an Authorization header, an ID number
// or an API key in its URL; a POST without the CSRF token is refused
// (`csrf_token_invalid`); after the operator revokes the terminal, the page's next call
// lands on the pairing screen.
import { expect, test } from '@playwright/test';
import { freshPerson, iccid, operator, reader, sandbox, SIM_INDEX } from '../lib/sandbox.mjs';
import { pageFetch, ready, session, upToConfirm } from '../lib/terminal.mjs';

test.beforeEach(async () => {
  await reader.reset();
});

test('no credentials or ID numbers in requests, CSRF enforced, revoke signs the page out', async ({ page }) => {
  const requests = [];
  page.on('request', (r) => requests.push(r));
  const person = freshPerson();
  const s = await ready(page, { where: 'cn', lang: 'en' });
  const card = iccid(SIM_INDEX.security, 'cn');
  await upToConfirm(page, { sim: card, person });

  // Without the CSRF token (or with a wrong one) a state-changing call is refused.
  const sess = await session(page);
  const sale = { product: sess.products[0].id, sim: { type: 'physical', iccid: card }, msisdn: { type: 'auto' } };
  for (const csrf of [undefined, 'not-the-token']) {
    const r = await pageFetch(page, 'POST', '/terminal/api/sales/validate', { body: sale, csrf });
    expect(r.status, `csrf ${csrf}: ${r.text}`).toBe(403);
    expect(r.json?.code).toBe('csrf_token_invalid');
  }
  // With it, the same call is answered (the session's token is the page's).
  const ok = await pageFetch(page, 'POST', '/terminal/api/sales/validate', { body: sale, csrf: sess.csrf_token });
  expect(ok.status).not.toBe(403);

  // Every request so far: no Authorization, no ID number or API key in the URL.
  const sb = sandbox();
  const keys = [sb.api_key, ...Object.values(sb.api_keys ?? {}), ...Object.values(sb.markets ?? {}).map((m) => m.api_key)]
    .filter((k) => typeof k === 'string' && k.length > 0);
  expect(requests.length).toBeGreaterThan(5);
  for (const r of requests) {
    const headers = await r.allHeaders();
    expect(headers.authorization, `${r.method()} ${r.url()}`).toBeUndefined();
    const url = decodeURIComponent(r.url());
    expect(url).not.toContain(person.id_number);
    expect(url).not.toMatch(/sk_[A-Za-z0-9_-]{8,}/);
    for (const k of keys) expect(url).not.toContain(k);
    const body = r.postData() ?? '';
    expect(body).not.toMatch(/sk_[A-Za-z0-9_-]{8,}/);
  }
  // The page talks to the gateway and the reader only: nothing goes to a third party.
  const gateway = new URL(sb.base_url).origin;
  const readerOrigin = new URL(sb.id_reader_url).origin;
  for (const r of requests) expect([gateway, readerOrigin]).toContain(new URL(r.url()).origin);

  // The operator revokes the terminal: the page's next call lands on the pairing screen.
  const revoked = await operator('POST', `/v1/terminal/devices/${s.store}/${s.terminal}/revoke`, undefined, 'cn');
  expect(revoked.status, revoked.text).toBeLessThan(300);
  await page.locator('#nav-recent').click();
  await expect(page.locator('#pair-code')).toBeVisible();
  const after = await pageFetch(page, 'GET', '/terminal/api/session');
  expect(after.status).toBe(401);
  expect(after.json?.code).toBe('terminal_not_paired');
});
