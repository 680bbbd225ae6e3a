// After-sales: any clerk looks a line up by its number or its SIM card's ICCID and sees
// its state in words; a clerk with the `after_sales` right (a supervisor) also suspends
// a lost or stolen phone's line, resumes it when found, and moves it to a new SIM card.
// Each action asks in the page's own dialog, is sent with an Idempotency-Key kept until
// the gateway accepts it (a retry after a network loss reuses it), and is then followed
// by reading the line again every second, for at most a minute, until it changed.

import { $, h, show } from './dom.js';
import { tx, plain, has } from './i18n.js';
import { call, Problem } from './api.js';
import { session } from './session.js';
import { newKey } from './keys.js';
import { iccidState, lineQuery, normaliseIccid } from './luhn.js';
import { formatMsisdn } from './numbers.js';
import { ask, dismiss } from './dialog.js';
import { showError, showErrorKey, clearErrors } from './errors.js';
import { renderVerify, resetVerify } from './verify.js';

const POLL_MS = 1000;
const MAX_POLLS = 60;
const REASON = 'lost_or_stolen';

/** Per action: its path segment and its words (confirm question, in progress, done). */
const ACTIONS = {
  suspend: { confirm: 'lines.confirm_suspend', working: 'lines.working_suspend', done: 'lines.done_suspend' },
  resume: { confirm: 'lines.confirm_resume', working: 'lines.working_resume', done: 'lines.done_resume' },
  'sim-swap': { confirm: 'lines.confirm_swap', working: 'lines.working_swap', done: 'lines.done_swap' },
};

let line = null;
let busy = false;
let ctl = null;
// The action sent and not yet accepted: {op, msisdn, iccid, key}. The same action again
// (after a lost network or a 5xx) goes with the same key, so it can happen only once.
let pending = null;

function mayAct() {
  const c = session() && session().clerk;
  return !!(c && c.rights && c.rights.after_sales === true);
}

function reasons(sub) {
  return Array.isArray(sub && sub.suspension_reasons) ? sub.suspension_reasons : [];
}

function inService(sub) {
  return sub.state === 'active' || sub.state === 'pending_verification';
}

/** True once `sub` shows what action `op` was to do. */
function reached(op, sub, iccid) {
  if (op === 'suspend') return sub.state === 'suspended' && reasons(sub).includes(REASON);
  if (op === 'resume') return !reasons(sub).includes(REASON);
  return sub.iccid === iccid;
}

function row(key, value) {
  const dd = h('dd');
  if (value instanceof Node) dd.append(value);
  else plain(dd, value);
  return [h('dt', { i18n: key }), dd];
}

function worded(prefix, code, fallbackParam) {
  const el = h('span');
  if (has(`${prefix}.${code}`)) tx(el, `${prefix}.${code}`);
  else tx(el, `${prefix}.unknown`, { [fallbackParam]: String(code || '') });
  return el;
}

function suspensions(sub) {
  const list = reasons(sub);
  if (list.length === 0) return h('span', { i18n: 'lines.no_suspension' });
  return h('ul', { className: 'reasons' }, ...list.map((r) => h('li', {}, worded('reason', r, 'reason'))));
}

function renderLine() {
  const box = $('[data-testid=line]');
  if (!line) {
    $('#line-details').replaceChildren();
    resetVerify();
    show(box, false);
    return;
  }
  box.dataset.state = String(line.state || '');
  box.dataset.msisdn = String(line.msisdn || '');
  box.dataset.iccid = String(line.iccid || '');
  $('#line-details').replaceChildren(
    ...row('lines.number', formatMsisdn(line.msisdn)),
    ...row('lines.card', String(line.iccid || '')),
    ...row('lines.sim_type', worded('simtype', line.sim_type, 'type')),
    ...row('lines.product', String(line.product || '')),
    ...row('lines.state', worded('linestate', line.state, 'state')),
    ...row('lines.suspensions', suspensions(line)),
  );
  show($('#line-busy'), !!line.order_in_flight && !busy);
  show($('#line-supervisor-only'), !mayAct() && line.state !== 'terminated');
  updateActions();
  renderVerify(line, verified);
  show(box, true);
}

/** A second verification answered: the line as it is now (a resume or suspend it
 *  started runs on in the gateway). */
function verified(answer) {
  if (!answer || !line || answer.msisdn !== line.msisdn) return;
  const sub = { ...answer };
  delete sub.verifier;
  delete sub.order;
  if (answer.order) sub.order_in_flight = answer.order.id;
  line = sub;
  renderLine();
}

function updateActions() {
  if (!$('#line-suspend')) return;
  const sub = line;
  const open = !!sub && sub.state !== 'terminated';
  const idle = !busy && !!sub && !sub.order_in_flight;
  show($('#line-suspend'), !!sub && inService(sub));
  show($('#line-resume'), !!sub && reasons(sub).includes(REASON));
  show($('#swap-form'), open);
  for (const id of ['#line-suspend', '#line-resume', '#line-swap', '#swap-iccid']) $(id).disabled = !idle;
  if (open) updateSwapStatus();
}

function updateSwapStatus() {
  const raw = $('#swap-iccid').value;
  const state = iccidState(raw);
  const status = $('[data-testid=swap-iccid-status]');
  status.dataset.state = state;
  tx(status, `iccid.${state}`, { count: normaliseIccid(raw).length });
}

function setProgress(status, key) {
  const el = $('[data-testid=line-progress]');
  if (!status) {
    el.dataset.status = '';
    plain($('#line-progress-text'), '');
    el.classList.remove('working');
    show(el, false);
    return;
  }
  el.dataset.status = status;
  tx($('#line-progress-text'), key);
  el.classList.toggle('working', status === 'working');
  show(el, true);
}

function stopped(e) {
  return e && e.name === 'AbortError';
}

function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DOMException('aborted', 'AbortError'));
    }, { once: true });
  });
}

function fresh() {
  if (ctl) ctl.abort();
  ctl = new AbortController();
  return ctl.signal;
}

function read(msisdn, signal) {
  return call('GET', `/lines?msisdn=${encodeURIComponent(msisdn)}`, { retry: true, signal });
}

async function find(ev) {
  ev.preventDefault();
  clearErrors();
  const q = lineQuery($('#line-query').value);
  if (q.error) {
    showErrorKey(q.error === 'bad_check' ? 'lines.iccid_bad_check' : 'lines.query_invalid');
    $('#line-query').focus();
    return;
  }
  busy = false;
  const signal = fresh();
  setProgress(null);
  tx($('#line-status'), 'lines.searching');
  const query = q.msisdn ? `msisdn=${encodeURIComponent(q.msisdn)}` : `iccid=${encodeURIComponent(q.iccid)}`;
  try {
    const sub = await call('GET', `/lines?${query}`, { retry: true, signal });
    plain($('#line-status'), '');
    const before = line && line.msisdn;
    line = sub && typeof sub === 'object' ? sub : null;
    // A new card typed for one line must not be swapped onto another.
    if ($('#swap-iccid') && (!line || line.msisdn !== before)) $('#swap-iccid').value = '';
    renderLine();
  } catch (e) {
    if (stopped(e)) return;
    plain($('#line-status'), '');
    line = null;
    renderLine();
    if (!e.handled) showError(e);
  }
}

/** Follows action `op` on `msisdn` by reading the line until it shows the change. */
async function follow(op, msisdn, iccid, order, signal) {
  if (order && order.status === 'failed') {
    setProgress('failed', 'lines.failed');
    return;
  }
  for (let n = 0; n < MAX_POLLS; n += 1) {
    await wait(POLL_MS, signal);
    const sub = await read(msisdn, signal);
    line = sub;
    if (reached(op, sub, iccid)) {
      setProgress('done', ACTIONS[op].done);
      return;
    }
    // No longer in flight yet nothing changed: the order failed and the line is as it was.
    if (!sub.order_in_flight || (order && order.id && sub.order_in_flight !== order.id)) {
      setProgress('failed', 'lines.failed');
      return;
    }
    renderLine();
  }
  setProgress('timeout', 'lines.timeout');
}

async function act(op) {
  if (busy || !line) return;
  clearErrors();
  const msisdn = String(line.msisdn);
  let body;
  let iccid;
  if (op === 'sim-swap') {
    const raw = $('#swap-iccid').value;
    if (iccidState(raw) !== 'ok') {
      updateSwapStatus();
      showErrorKey('lines.swap_iccid_needed');
      $('#swap-iccid').focus();
      return;
    }
    iccid = normaliseIccid(raw);
    body = { sim: { type: 'physical', iccid } };
  }
  if (!(await ask(ACTIONS[op].confirm, { msisdn: formatMsisdn(msisdn), iccid: iccid || '' }))) return;
  if (busy || !line || String(line.msisdn) !== msisdn) return;
  if (!pending || pending.op !== op || pending.msisdn !== msisdn || pending.iccid !== iccid) {
    pending = { op, msisdn, iccid, key: newKey() };
  }
  const { key } = pending;
  const signal = fresh();
  busy = true;
  renderLine();
  setProgress('working', ACTIONS[op].working);
  try {
    const path = `/lines/${encodeURIComponent(msisdn)}/${op}`;
    const order = await call('POST', path, { body, headers: { 'Idempotency-Key': key }, retry: true, signal });
    // Accepted: this key is spent; a later action is a new one.
    if (pending && pending.key === key) pending = null;
    await follow(op, msisdn, iccid, order, signal);
    if (op === 'sim-swap' && line && line.iccid === iccid) $('#swap-iccid').value = '';
  } catch (e) {
    if (stopped(e)) return;
    setProgress(null);
    if (e instanceof Problem && e.status >= 400 && e.status < 500 && e.code !== 'csrf_token_invalid') {
      // Refused: nothing was made, so the next try is a new request with a new key.
      if (pending && pending.key === key) pending = null;
    }
    if (!e.handled) showError(e);
  }
  if (signal.aborted) return;
  busy = false;
  renderLine();
}

/** The supervisor's controls (built only for a clerk who may use them). */
function actionControls() {
  const button = (id, key, cls, op) =>
    h('button', { type: 'button', id, className: cls, i18n: key, on: { click: () => act(op) } });
  const input = h('input', {
    type: 'text',
    id: 'swap-iccid',
    name: 'swap-iccid',
    inputMode: 'numeric',
    autocomplete: 'off',
    spellcheck: false,
    className: 'code-input',
    attrs: { maxlength: '32', 'aria-describedby': 'swap-iccid-status' },
    on: { input: updateSwapStatus },
  });
  const swap = h(
    'form',
    {
      id: 'swap-form',
      className: 'swap',
      noValidate: true,
      // A barcode scanner ends with Enter: that asks to swap (the dialog still confirms).
      on: { submit: (ev) => { ev.preventDefault(); act('sim-swap'); } },
    },
    h('div', { className: 'field' },
      h('label', { htmlFor: 'swap-iccid', i18n: 'lines.swap_iccid' }),
      input,
      h('p', { className: 'status', id: 'swap-iccid-status', attrs: { 'data-testid': 'swap-iccid-status', 'aria-live': 'polite' } })),
    h('button', { type: 'submit', id: 'line-swap', className: 'secondary', i18n: 'lines.swap' }),
  );
  return [
    h('h2', { i18n: 'lines.actions' }),
    h('div', { className: 'actions' },
      button('line-suspend', 'lines.suspend', 'primary', 'suspend'),
      button('line-resume', 'lines.resume', 'primary', 'resume')),
    swap,
  ];
}

/** Wires the view's controls once. */
export function init() {
  $('#line-form').addEventListener('submit', find);
}

/** Shows the view for the signed-in clerk (the actions only where the clerk may act). */
export function enter() {
  stop();
  line = null;
  setProgress(null);
  plain($('#line-status'), '');
  $('#line-actions').replaceChildren(...(mayAct() ? actionControls() : []));
  renderLine();
  $('#line-query').focus();
}

/** Stops a look-up or the following of an action (the clerk left the view). */
export function stop() {
  if (ctl) ctl.abort();
  ctl = null;
  busy = false;
  dismiss();
}

/** Forgets the line and any unsent action (the clerk signed out or the pairing was lost). */
export function reset() {
  stop();
  line = null;
  pending = null;
  $('#line-query').value = '';
  $('#line-actions').replaceChildren();
  setProgress(null);
  renderLine();
}
