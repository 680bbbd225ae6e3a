// The number step: the next free number (`#number-auto`, the default) or a number the
// customer picks (`#number-pick`) from the tenant's free numbers, a page at a time. A
// pick takes a hold (`POST /terminal/api/holds`, 15 minutes) so no other sale gets the
// number meanwhile; the sale then names the hold. Picking another number releases the
// previous hold first; a sale left unfinished releases its hold (best effort: the
// gateway lapses it anyway). The hold lives in the draft, so a reload keeps it.

import { $, $$, h, show } from './dom.js';
import { tx, plain, currentLang, onLangChange } from './i18n.js';
import { call } from './api.js';
import { newKey } from './keys.js';
import { showError, showErrorKey, clearErrors } from './errors.js';

let ctx = null;
// The `after` of the page shown ('' for the first page) and the page itself.
let cursor = '';
let page = null;
let loading = null;
let busy = false;
// Bumped when the sale is left: a late answer for an old sale is not applied to the new one.
let generation = 0;

/** The number as a clerk reads it aloud: the last 8 digits in two groups of four. */
export function formatMsisdn(m) {
  const s = String(m || '');
  return s.length > 8 ? `${s.slice(0, -8)} ${s.slice(-8, -4)} ${s.slice(-4)}` : s;
}

function localTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(currentLang(), { hour: '2-digit', minute: '2-digit' });
}

/** True when `hold` has lapsed by this device's clock (the gateway's own clock decides). */
function lapsed(hold) {
  const t = Date.parse(hold && hold.expires_at);
  return Number.isFinite(t) && t <= Date.now();
}

function picking() {
  return $('#number-pick').checked;
}

function held() {
  const d = ctx.draft();
  return (d && d.hold) || null;
}

function renderHeld() {
  const box = $('[data-testid=held-number]');
  const hold = held();
  if (!hold) {
    plain($('#held-text'), '');
    show(box, false);
    return;
  }
  box.dataset.msisdn = hold.msisdn;
  tx($('#held-text'), 'number.held', { msisdn: formatMsisdn(hold.msisdn), time: localTime(hold.expires_at) });
  show(box, true);
}

function option(n) {
  const golden = n.golden === true;
  const selectable = n.selectable !== false;
  const hold = held();
  const btn = h(
    'button',
    {
      type: 'button',
      className: golden ? 'number-option golden' : 'number-option',
      // Only the unsellable are disabled: a busy step ignores clicks instead, so the
      // focus stays on the number the clerk chose.
      disabled: !selectable,
      attrs: {
        'data-testid': 'number-option',
        'data-msisdn': n.msisdn,
        'data-golden': String(golden),
        'aria-pressed': String(!!hold && hold.msisdn === n.msisdn),
      },
      on: { click: () => pick(n.msisdn) },
    },
    h('span', { className: 'msisdn', text: formatMsisdn(n.msisdn) }),
  );
  if (golden) btn.append(h('span', { className: 'badge golden-badge', i18n: 'number.golden' }));
  if (golden && !selectable) btn.setAttribute('aria-describedby', 'number-golden-note');
  return btn;
}

function render() {
  const box = $('#numbers');
  box.replaceChildren();
  const list = (page && Array.isArray(page.numbers) ? page.numbers : []).filter((n) => n && typeof n.msisdn === 'string');
  for (const n of list) box.append(option(n));
  show($('#number-golden-note'), !!page && page.golden_selectable === false);
  show($('#numbers-empty'), !!page && list.length === 0);
  show($('#numbers-more'), !!page && typeof page.next === 'string' && page.next !== '');
  show($('#numbers-first'), !!page && cursor !== '');
}

/** Marks the held number among the options shown. */
function renderPressed() {
  const hold = held();
  for (const b of $$('[data-testid=number-option]')) {
    b.setAttribute('aria-pressed', String(!!hold && hold.msisdn === b.dataset.msisdn));
  }
}

function stopLoading() {
  if (loading) loading.abort();
  loading = null;
}

/** Shows the page of free numbers after `after` ('' for the first). */
async function load(after) {
  stopLoading();
  loading = new AbortController();
  const signal = loading.signal;
  tx($('#numbers-state'), 'number.loading');
  const query = after ? `?after=${encodeURIComponent(after)}` : '';
  try {
    const answer = await call('GET', `/numbers${query}`, { retry: true, signal });
    if (signal.aborted) return;
    cursor = after;
    page = answer || { numbers: [], next: null };
    plain($('#numbers-state'), '');
    render();
  } catch (e) {
    if (e.name === 'AbortError') return;
    plain($('#numbers-state'), '');
    if (!e.handled) showError(e);
  }
}

/** Releases `hold` (best effort: a lapsed or used hold answers 404, which is fine). */
export async function release(hold) {
  if (!hold || !hold.id) return;
  try {
    await call('DELETE', `/holds/${encodeURIComponent(hold.id)}`, { retry: false });
  } catch {
    // Lapsed, used, or the network is down: the gateway frees it after 15 minutes anyway.
  }
}

function forget() {
  const d = ctx.draft();
  d.hold = null;
  d.msisdn = { mode: 'auto' };
  ctx.save();
}

async function pick(msisdn) {
  const previous = held();
  if (busy || (previous && previous.msisdn === msisdn && !lapsed(previous))) return;
  clearErrors();
  const mine = generation;
  busy = true;
  tx($('#numbers-state'), 'number.holding');
  try {
    if (previous) {
      await call('DELETE', `/holds/${encodeURIComponent(previous.id)}`, { retry: false }).catch((e) => {
        // Already lapsed or used: nothing to release.
        if (e.code !== 'hold_not_found') throw e;
      });
      if (mine !== generation) return;
      forget();
      renderHeld();
      renderPressed();
    }
    // A fresh key per pick; the call's own retries after a network loss reuse it.
    const hold = await call('POST', '/holds', { body: { msisdn }, headers: { 'Idempotency-Key': newKey() }, retry: true });
    if (mine !== generation) {
      // The sale was left while the hold was being taken: give the number back.
      release(hold);
      return;
    }
    const d = ctx.draft();
    d.hold = { id: hold.id, msisdn: hold.msisdn || msisdn, expires_at: hold.expires_at };
    d.msisdn = { mode: 'reservation', reservation_id: hold.id };
    ctx.save();
    renderHeld();
    renderPressed();
  } catch (e) {
    if (mine !== generation || e.handled) return;
    showError(e);
    // Taken (or no longer offered) meanwhile: the page shown is out of date.
    if (e.code === 'msisdn_not_available' || e.code === 'golden_number_not_offered') {
      busy = false;
      plain($('#numbers-state'), '');
      load(cursor);
    }
  } finally {
    if (mine === generation) {
      if (busy) plain($('#numbers-state'), '');
      busy = false;
    }
  }
}

function modeChanged() {
  clearErrors();
  const d = ctx.draft();
  d.numberMode = picking() ? 'pick' : 'auto';
  ctx.save();
  show($('#number-picker'), picking());
  if (picking() && !page) load('');
}

async function submit(ev) {
  ev.preventDefault();
  if (busy) return;
  clearErrors();
  const hold = held();
  if (!picking()) {
    // The next free number: a number held earlier is not needed any more.
    if (hold) {
      forget();
      renderHeld();
      release(hold);
    }
    ctx.next();
    return;
  }
  if (!hold) {
    showErrorKey('number.pick_needed');
    const first = $('[data-testid=number-option]:not(:disabled)');
    if (first) first.focus();
    return;
  }
  if (lapsed(hold)) {
    forget();
    renderHeld();
    showErrorKey('number.hold_lapsed', { msisdn: formatMsisdn(hold.msisdn) });
    load(cursor);
    return;
  }
  ctx.next();
}

/** Wires the step's controls once; `c` = {draft(), save(), next(), back()}. */
export function init(c) {
  ctx = c;
  for (const id of ['#number-auto', '#number-pick']) $(id).addEventListener('change', modeChanged);
  $('#numbers-more').addEventListener('click', () => {
    if (!busy && page && page.next) load(page.next);
  });
  $('#numbers-first').addEventListener('click', () => {
    if (!busy) load('');
  });
  $('#number-form').addEventListener('submit', submit);
  $('#number-back').addEventListener('click', () => {
    if (!busy) ctx.back();
  });
  onLangChange(() => {
    if (ctx.draft()) renderHeld();
  });
}

/** Shows the step for the draft: its mode, its hold, and the numbers when picking. */
export function enter() {
  const d = ctx.draft();
  const pick = d.numberMode === 'pick' || !!d.hold;
  $('#number-auto').checked = !pick;
  $('#number-pick').checked = pick;
  show($('#number-picker'), pick);
  renderHeld();
  if (pick) load(page ? cursor : '');
}

/** Stops loading numbers (the step was left). */
export function leave() {
  stopLoading();
  plain($('#numbers-state'), '');
}

/** Forgets the numbers shown and any answer still coming (a new or abandoned sale). */
export function reset() {
  stopLoading();
  generation += 1;
  busy = false;
  cursor = '';
  page = null;
  $('#numbers').replaceChildren();
  plain($('#numbers-state'), '');
  plain($('#held-text'), '');
  for (const id of ['#number-picker', '[data-testid=held-number]', '#number-golden-note', '#numbers-empty', '#numbers-more', '#numbers-first']) {
    show($(id), false);
  }
  $('#number-auto').checked = true;
  $('#number-pick').checked = false;
}
