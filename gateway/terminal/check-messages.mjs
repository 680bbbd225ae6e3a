#!/usr/bin/env node
// Checks the terminal page's message files: en.json and zh-CN.json have the same keys,
// every value is a non-empty string with the same {placeholders} in both, and every key
// the page names literally exists (`data-i18n="…"` and `data-i18n-attr="attr:…"` in
// index.html; `t('…')`, `tx(el, '…')`, `showErrorKey('…')` and `i18n: '…'` in js/*.js),
// as do the keys the page builds from codes it knows (statuses, ID types, refusals,
// line states, suspension reasons, after-sales actions).
// Runs with plain `node`, no packages: `node gateway/terminal/check-messages.mjs`.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const problems = [];

function load(lang) {
  const path = join(root, 'i18n', `${lang}.json`);
  try {
    const m = JSON.parse(readFileSync(path, 'utf8'));
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
    return m;
  } catch (e) {
    problems.push(`${path}: ${e.message}`);
    return {};
  }
}

const files = { en: load('en'), 'zh-CN': load('zh-CN') };
const langs = Object.keys(files);

// 1. Identical key sets, string values, same placeholders.
const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
for (const a of langs) {
  for (const b of langs) {
    if (a === b) continue;
    for (const k of Object.keys(files[a])) if (!(k in files[b])) problems.push(`${b}.json lacks "${k}" (present in ${a}.json)`);
  }
  for (const [k, v] of Object.entries(files[a])) {
    if (typeof v !== 'string' || v.trim() === '') problems.push(`${a}.json: "${k}" is not a non-empty string`);
  }
}
for (const k of Object.keys(files.en)) {
  if (k in files['zh-CN'] && placeholders(files.en[k]) !== placeholders(files['zh-CN'][k])) {
    problems.push(`"${k}": placeholders differ between en.json and zh-CN.json`);
  }
}

// 2. Keys used literally in the page.
const used = new Map();
const use = (key, where) => {
  if (!used.has(key)) used.set(key, where);
};
const html = readFileSync(join(root, 'index.html'), 'utf8');
for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) use(m[1], 'index.html');
for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) {
  for (const pair of m[1].split(';')) {
    const key = pair.split(':')[1];
    if (key) use(key.trim(), 'index.html');
  }
}
const jsDir = join(root, 'js');
const jsFiles = readdirSync(jsDir).filter((f) => f.endsWith('.js'));
const patterns = [
  /\bt\(\s*'([^'`]+)'/g,
  /\bt\(\s*"([^"`]+)"/g,
  /\btx\(\s*[^,()]+,\s*'([^'`]+)'/g,
  /\btx\(\s*[^,()]+,\s*"([^"`]+)"/g,
  /\bshowErrorKey\(\s*'([^'`]+)'/g,
  /\bi18n:\s*'([^'`]+)'\s*[,}]/g,
];
let idTypes = [];
for (const f of jsFiles) {
  const src = readFileSync(join(jsDir, f), 'utf8');
  for (const re of patterns) for (const m of src.matchAll(re)) use(m[1], `js/${f}`);
  if (f === 'codes.js') {
    const block = src.match(/ID_TYPES\s*=\s*\[([^\]]*)\]/);
    if (block) idTypes = [...block[1].matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
  }
}

// 3. Keys built from codes (`idtype.${type}`, `status.${status}`, `error.${code}`, …).
if (idTypes.length === 0) problems.push('js/codes.js: ID_TYPES not found');
for (const v of idTypes) use(`idtype.${v}`, 'js/codes.js ID_TYPES');
const built = {
  status: ['submitting', 'checking', 'reserved', 'hlr_provisioning', 'esim_ordering', 'esim_releasing', 'active', 'compensating', 'failed', 'unknown'],
  state: ['reserved', 'hlr_provisioning', 'esim_ordering', 'esim_releasing', 'active', 'compensating', 'failed', 'unknown'],
  iccid: ['empty', 'not_digits', 'short', 'long', 'bad_check', 'ok'],
  reader: ['no_card', 'reader_unavailable', 'reader_error'],
  window: ['store_per_day', 'clerk_per_hour', 'device_per_hour', 'id_per_30_days', 'store_burst'],
  error: [
    'network_lost', 'unknown', 'unknown_with_detail',
    'pairing_code_invalid', 'terminal_not_paired', 'terminal_not_registered', 'clerk_sign_in_failed', 'clerk_locked', 'clerk_disabled',
    'clerk_not_signed_in', 'csrf_token_invalid', 'order_not_found', 'store_unavailable', 'backlog_full',
    'internal_error', 'identity_service_unavailable',
    'invalid_iccid', 'unknown_iccid', 'sim_not_available', 'sim_is_esim', 'unknown_product', 'esim_not_offered',
    'esim_stock_out', 'number_pool_exhausted', 'msisdn_not_available', 'idempotency_key_reused',
    'channel_not_allowed', 'esim_channel_not_allowed', 'channel_not_registered', 'channel_disabled', 'channel_frozen',
    'subscriber_required', 'subscriber_invalid', 'id_number_invalid', 'id_type_not_accepted',
    'id_capture_method_not_allowed', 'face_check_required', 'face_check_failed', 'identity_mismatch', 'id_expired',
    'blocked', 'id_quota_exceeded', 'velocity_limit',
    'golden_number_not_offered', 'hold_not_found', 'reservation_not_found', 'reservation_not_usable',
    'clerk_not_supervisor', 'subscription_not_found', 'subscription_busy', 'subscription_terminated',
    'suspension_reason_present', 'suspension_reason_absent',
  ],
  linestate: ['active', 'suspended', 'terminated', 'pending_verification', 'unknown'],
  reason: ['customer_request', 'non_payment', 'lost_or_stolen', 'fraud_risk', 'regulatory', 'unknown'],
  simtype: ['physical', 'esim', 'unknown'],
  // lines.js ACTIONS: the words of each after-sales action.
  lines: ['suspend', 'resume', 'swap'].flatMap((a) => [`confirm_${a}`, `working_${a}`, `done_${a}`]),
  fail: [
    'unknown', 'unknown_with_detail', 'hlr_unavailable', 'hlr_rejected', 'identity_mismatch', 'face_check_failed',
    'face_check_required', 'id_capture_method_not_allowed', 'id_expired', 'identity_service_unavailable',
    'subscriber_invalid', 'esim_stock_out', 'smdp_rejected', 'smdp_unavailable', 'esim_not_downloaded',
  ],
};
for (const [prefix, names] of Object.entries(built)) for (const n of names) use(`${prefix}.${n}`, `built ${prefix}.*`);

for (const [key, where] of used) {
  for (const l of langs) if (!(key in files[l])) problems.push(`${l}.json lacks "${key}" (used in ${where})`);
}

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`check-messages: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check-messages: ${Object.keys(files.en).length} keys in ${langs.join(', ')}; ${used.size} used keys present`);
