// Second real-person verification at the counter (docs/terminal.md, lines): a line the
// identity verifier flagged when it was sold waits for a second check; any clerk looks it
// up, types the signed risk notice's number, runs the reader's face match and sends it;
// the gateway puts it to the verifier (the page never states a result) and the line is
// cleared. Named to run last: its sale at the store counts toward the store's burst rule.
import { expect, test } from '@playwright/test';
import { message } from '../lib/messages.mjs';
import { freshPerson, reader, sandbox, shop } from '../lib/sandbox.mjs';
import { request } from '../lib/http.mjs';
import { ready } from '../lib/terminal.mjs';
import { FROM_END, iccidFromEnd, operatorWith } from '../lib/extra.mjs';

const path = (r) => new URL(r.url()).pathname;
const line = (page) => page.locator('[data-testid=line]');

/// Asks the identity simulator (sandbox.json `identity_simulator.admin`) to flag its
/// next decision.
async function flagNext() {
  const sb = sandbox();
  const admin = sb.identity_simulator?.admin;
  if (!admin) throw new Error('sandbox.json has no identity_simulator.admin');
  const r = await request('POST', `${admin}rules`, { ca: sb.ca, body: { action: 'flag', code: 'watchlist_near_match' } });
  expect(r.status, r.text).toBe(204);
}

/// Sells `iccid` to `person` at the shop's counter through the operator API; resolves to
/// the line's number once active.
async function soldOverApi(s, iccid, person) {
  const body = {
    sim: { type: 'physical', iccid },
    product: sandbox().markets.cn.product,
    channel: { kind: 'store', store_id: s.store, terminal_id: s.terminal, staff_id: s.clerk },
    subscriber: {
      name: person.name, id_type: 'resident_id', id_number: person.id_number, nationality: 'CHN',
      capture: { method: 'card_reader', reader_serial: 'R-1' },
      evidence: { face_match: { transaction_id: `fm-${Date.now()}`, score: 0.93, liveness: true } },
    },
  };
  const r = await operatorWith('POST', '/v1/activations', body, { 'idempotency-key': `counter-${iccid}` });
  expect(r.status, r.text).toBe(202);
  for (let n = 0; n < 600; n += 1) {
    const o = await operatorWith('GET', `/v1/activations/${encodeURIComponent(r.json.id)}`, undefined, {});
    if (o.json.status === 'active') return o.json.msisdn;
    expect(o.json.status, o.text).not.toBe('failed');
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error('the sale did not become active in 60 s');
}

test('a flagged line is verified at the counter by a clerk and cleared', async ({ page }) => {
  await reader.reset();
  const s = await ready(page, { where: 'cn', lang: 'en' });
  const person = freshPerson();
  await flagNext();
  const msisdn = await soldOverApi(s, iccidFromEnd(FROM_END.verification, 'cn'), person);
  const before = await operatorWith('GET', `/v1/subscriptions/${msisdn}`, undefined, {});
  expect(before.json).toMatchObject({ state: 'pending_verification', verification: { state: 'pending', rules: ['verifier_flag'] } });

  await page.locator('#nav-lines').click();
  await page.locator('#line-query').fill(msisdn);
  await page.locator('#line-find').click();
  await expect(line(page)).toHaveAttribute('data-state', 'pending_verification');
  await expect(line(page)).toContainText(message('en', 'linestate.pending_verification'));
  await expect(page.locator('#verify-form')).toBeVisible();

  // Nothing is sent without the notice and the face check.
  let posted = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && path(r) === `/terminal/api/lines/${msisdn}/verification`) posted += 1;
  });
  await page.locator('#verify-send').click();
  await expect(page.locator('[data-testid=error]')).toHaveText(message('en', 'verify.needed'));
  expect(posted).toBe(0);

  await page.locator('#verify-notice').fill('RN-2026-0042');
  await reader.placeCard(person);
  await page.locator('#verify-face').click();
  await expect(page.locator('#verify-face-status')).toContainText('%');
  const sent = page.waitForResponse((r) => path(r) === `/terminal/api/lines/${msisdn}/verification` && r.request().method() === 'POST');
  await page.locator('#verify-send').click();
  const r = await sent;
  expect(r.status(), await r.text()).toBe(200);
  const request_ = JSON.parse(r.request().postData() || '{}');
  expect(Object.keys(request_).sort()).toEqual(['face_match', 'risk_notice']);
  const result = page.locator('[data-testid=verify-result]');
  await expect(result).toHaveAttribute('data-outcome', 'passed');
  await expect(result).toHaveText(message('en', 'verify.passed'));
  await expect(line(page)).toHaveAttribute('data-state', 'active');
  await expect(page.locator('#verify-form')).toHaveCount(0);
  expect(posted).toBe(1);

  const after = await operatorWith('GET', `/v1/subscriptions/${msisdn}`, undefined, {});
  expect(after.json).toMatchObject({ state: 'active', verification: { state: 'clear' } });
  const events = await operatorWith('GET', '/v1/events?type=subscription.verified', undefined, {});
  expect(events.json.data.some((e) => e.data.msisdn === msisdn)).toBe(true);
});
