// The running sandbox as the tests see it: sandbox.json, the operator API of a market
// tenant, pairing codes from `simgw terminal pair`, the ID card reader simulator's control
// API, and test identities.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { request } from './http.mjs';

let cached = null;

/// sandbox.json of the gateway global-setup.mjs started.
export function sandbox() {
  if (cached === null) {
    const file = process.env.SIMGW_SANDBOX_FILE;
    if (!file) throw new Error('SIMGW_SANDBOX_FILE is not set: run through `npx playwright test` (global-setup.mjs)');
    const sb = JSON.parse(fs.readFileSync(file, 'utf8'));
    cached = { ...sb, file, ca: fs.readFileSync(sb.ca_cert) };
  }
  return cached;
}

/// A store to sell in: `cn`, `uk`, `us`, `fr` (the market tenants of sandbox.json
/// `markets`) or `sandbox` (the permissive tenant, sandbox.json `terminal`, which sells
/// eSIMs). Resolves to {tenant, store, terminal, clerk, pin, clerks, apiKey, iccids}.
export function shop(which = 'cn') {
  const sb = sandbox();
  if (which === 'sandbox') {
    const t = sb.terminal;
    if (!t) throw new Error('sandbox.json has no terminal (the sandbox tenant\'s store terminal)');
    const clerk = Object.keys(t.clerks ?? {})[0];
    if (!clerk) throw new Error('sandbox.json terminal.clerks is empty');
    return {
      tenant: t.tenant, store: t.store_id, terminal: t.terminal_id, clerk, pin: t.clerks[clerk],
      clerks: t.clerks, apiKey: sb.api_key, iccids: sb.physical_iccids,
    };
  }
  const m = sb.markets?.[which];
  if (!m) throw new Error(`sandbox.json has no markets.${which}`);
  const st = m.store;
  if (!st.clerk_pin) throw new Error(`sandbox.json has no markets.${which}.store.clerk_pin (the sandbox seeds the clerks' PINs)`);
  return {
    tenant: m.tenant, store: st.store_id, terminal: st.terminal_id, clerk: st.staff_id, pin: st.clerk_pin,
    clerks: st.clerks ?? { [st.staff_id]: st.clerk_pin }, apiKey: m.api_key, iccids: m.physical_iccids,
  };
}

/// A clerk of the shop other than its first (the lock-out test locks this one).
export function secondClerk(which = 'cn') {
  const s = shop(which);
  const other = Object.keys(s.clerks).find((c) => c !== s.clerk);
  if (!other) throw new Error(`the ${which} store has one clerk: the sandbox seeds a second one for the lock-out test`);
  return { clerk: other, pin: s.clerks[other] };
}

/// The `n`-th physical SIM of a shop (each test takes its own index, so no two tests sell
/// the same card).
export function iccid(n, which = 'cn') {
  const list = shop(which).iccids;
  if (!list || list.length <= n) throw new Error(`${which} has no physical SIM number ${n}`);
  return list[n];
}

/// A call to the gateway's operator API with the shop tenant's operator key.
export function operator(method, path, body, which = 'cn') {
  const sb = sandbox();
  return request(method, sb.base_url + path, {
    ca: sb.ca,
    headers: { authorization: `Bearer ${shop(which).apiKey}` },
    body,
  });
}

/// A fresh one-time pairing code for the shop's terminal (`simgw terminal pair`).
export function pairingCode(which = 'cn') {
  const s = shop(which);
  const out = execFileSync(
    process.env.SIMGW_BIN,
    ['terminal', 'pair', '--tenant', s.tenant, '--store', s.store, '--terminal', s.terminal, '--sandbox-file', sandbox().file],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const code = out.trim();
  if (!code || /\s/.test(code)) throw new Error(`simgw terminal pair printed ${JSON.stringify(out)}, not a code alone`);
  return code;
}

/// The ID card reader simulator's base URL (sandbox.json `id_reader_url`).
export function readerUrl() {
  const url = sandbox().id_reader_url;
  if (!url) throw new Error('sandbox.json has no id_reader_url (serve --sandbox runs the reader simulator)');
  return url;
}

async function control(method, path, body) {
  const r = await request(method, readerUrl() + path, { body });
  if (r.status !== 204) throw new Error(`reader ${method} ${path}: ${r.status} ${r.text}`);
}

/// The reader simulator's control API (conformance/src/id_reader_sim).
export const reader = {
  reset: () => control('POST', '/control/reset'),
  placeCard: (card) => control('PUT', '/control/card', card),
  removeCard: () => control('DELETE', '/control/card'),
  setFaceMatch: (setting) => control('PUT', '/control/face-match', setting),
};

/// The ISO 7064 MOD 11-2 check character of a resident ID's first 17 digits (GB 11643).
export function residentIdCheck(d17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...d17].reduce((a, c, i) => a + Number(c) * w[i], 0);
  const v = (12 - (sum % 11)) % 11;
  return v === 10 ? 'X' : String(v);
}

/// A well-formed resident ID (Beijing Chaoyang) for `seed`: the same seed, the same
/// number, so screenshots stay the same; different seeds, different people.
export function residentId(seed) {
  let x = (seed * 2654435761) >>> 0;
  const next = (m) => { x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x9e3779b9) >>> 0; return x % m; };
  const year = 1960 + next(40);
  const month = 1 + next(12);
  const day = 1 + next(28);
  const seq = 100 + next(900);
  const d17 = `110105${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${seq}`;
  return d17 + residentIdCheck(d17);
}

const NAMES = ['王芳', '李娜', '刘洋', '陈静', '杨帆', '赵磊', '黄敏', '周杰', '吴霞', '徐明'];

/// A test person (the reader's card JSON) for `seed`.
export function person(seed) {
  return { name: NAMES[seed % NAMES.length], id_number: residentId(seed) };
}

/// A person no other test uses in this run.
let counter = 0;
export function freshPerson() {
  counter += 1;
  return person((Date.now() % 1_000_000) * 100 + counter);
}

/// The last four characters of an ID number (what the page may show of it).
export const lastFour = (n) => n.slice(-4);

/// Which physical SIM (index into the shop's list) each test sells, so tests never share
/// a card and a rerun against the same data dir fails loudly rather than subtly.
export const SIM_INDEX = {
  physicalSale: 0,
  doubleConfirm: 1,
  refusal: 2,
  security: 3,
  cardReaderOnly: 4,
  shots: { en: 5, 'zh-CN': 6 },
};
