// The confirm step: the summary, `#confirm`, and the order's progress. A sale is placed
// once: the Idempotency-Key is made on the first entry to this step and kept with the
// draft, `#confirm` disables itself at once and ignores clicks while a request is out,
// and a reload repeats the very same request (draft.js explains what is kept meanwhile).
// Progress is polled every second until the order is `active` or `failed`.

import { $, h, show } from './dom.js';
import { tx, plain, has } from './i18n.js';
import { call, Problem } from './api.js';
import { loadPending, savePending, clearPending } from './draft.js';
import { maskId } from './reader.js';
import { formatMsisdn } from './numbers.js';
import { showError, showErrorKey, showRefusal, clearErrors } from './errors.js';

const POLL_MS = 1000;

let ctx = null;
let inFlight = false;
let ctl = null;

function row(key, value, valueKey) {
  const dd = h('dd');
  if (valueKey) tx(dd, valueKey);
  else plain(dd, value);
  return [h('dt', { i18n: key }), dd];
}

function number(d) {
  if (!d.hold) return row('summary.number', '', 'summary.number_auto');
  const dd = h('dd');
  tx(dd, 'summary.number_held', { msisdn: formatMsisdn(d.hold.msisdn) });
  return [h('dt', { i18n: 'summary.number' }), dd];
}

function renderSummary(d, sub) {
  const dl = $('[data-testid=summary]');
  const sim = d.sim.type === 'esim' ? row('summary.sim', '', 'summary.esim') : row('summary.sim', d.sim.iccid);
  dl.replaceChildren(
    ...row('summary.product', d.product),
    ...sim,
    ...number(d),
    ...(sub ? row('summary.customer', `${sub.name} · ${maskId(sub.id_number)}`) : row('summary.customer', '', 'summary.no_customer')),
  );
}

/** Sets `[data-testid=progress]` to `status` (an order status, or `submitting`). */
function setProgress(status, order) {
  const el = $('[data-testid=progress]');
  el.dataset.status = status;
  const text = $('#progress-text');
  if (has(`status.${status}`)) tx(text, `status.${status}`);
  else tx(text, 'status.unknown', { status });
  const advice = $('#progress-advice');
  if (status === 'failed') {
    const err = (order && order.error) || {};
    if (err.code && has(`fail.${err.code}`)) tx(advice, `fail.${err.code}`);
    else if (err.detail) tx(advice, 'fail.unknown_with_detail', { detail: err.detail });
    else tx(advice, 'fail.unknown');
    show(advice, true);
  } else {
    plain(advice, '');
    show(advice, false);
  }
  el.classList.toggle('working', status !== 'failed' && status !== 'active');
  show(el, true);
}

function stopped(e) {
  return e && e.name === 'AbortError';
}

async function poll(id, signal) {
  for (;;) {
    let order;
    try {
      order = await call('GET', `/sales/${encodeURIComponent(id)}`, { retry: true, signal });
    } catch (e) {
      if (stopped(e) || e.handled) return;
      showError(e);
      show($('#failed-new-sale'), true);
      ctx.lock(false);
      return;
    }
    if (signal.aborted) return;
    if (!track(order)) return;
    try {
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, POLL_MS);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new DOMException('aborted', 'AbortError'));
        }, { once: true });
      });
    } catch {
      return;
    }
  }
}

/** Shows `order`'s status; false once it is final (done or failed). */
function track(order) {
  const status = String(order.status || '');
  if (status === 'active') {
    setProgress(status, order);
    ctx.done(order);
    return false;
  }
  setProgress(status, order);
  if (status === 'failed') {
    show($('#failed-new-sale'), true);
    $('#failed-new-sale').focus();
    return false;
  }
  return true;
}

async function submit(p) {
  inFlight = true;
  $('#confirm').disabled = true;
  show($('#confirm-back'), false);
  ctx.lock(true);
  setProgress('submitting');
  const signal = ctl.signal;
  let order;
  try {
    order = await call('POST', '/sales', { bodyText: p.body, headers: { 'Idempotency-Key': p.key }, retry: true, signal });
  } catch (e) {
    if (stopped(e)) return;
    inFlight = false;
    // A lost session keeps the pending request: it is sent again after sign-in.
    if (e.handled) return;
    ctx.lock(false);
    show($('[data-testid=progress]'), false);
    if (e instanceof Problem && e.code === 'idempotency_key_reused') {
      // The key already placed a sale (a request sent before a reload went through
      // after all): follow that one.
      recover(p.key, signal);
      return;
    }
    if (e instanceof Problem && e.status >= 400 && e.status < 500 && e.code !== 'csrf_token_invalid') {
      // Refused: no order exists. The next try is a new request with a new key (the
      // same key would only replay this refusal, or be refused with another body).
      clearPending();
      ctx.newKey();
      showRefusal(e);
      show($('#confirm-back'), true);
    } else {
      // The gateway failed (5xx): try again with the same key and body.
      showError(e);
    }
    $('#confirm').disabled = false;
    return;
  }
  inFlight = false;
  // The id is saved before the body is deleted: a reload between the two still finds
  // the order (the id wins over a pending body).
  ctx.ordered(order.id);
  clearPending();
  ctx.lock(false);
  show($('#confirm'), false);
  if (track(order)) poll(order.id, signal);
}

// The request of this page's confirmation (key and exact body), in memory only.
let request = null;

function onConfirm() {
  if (inFlight) return;
  clearErrors();
  if (!request) {
    request = { key: ctx.draft().key, body: JSON.stringify(ctx.buildSale()) };
    savePending(request.key);
  }
  submit(request);
}

/** After a reload mid-confirmation: the sale made under `key`, followed; or, if none was
 * made, back to the customer (the card is read again; the same key is used). */
async function recover(key, signal) {
  inFlight = true;
  ctx.lock(true);
  show($('#confirm'), false);
  show($('#confirm-back'), false);
  setProgress('checking');
  let order;
  try {
    order = await call('GET', `/sales/by-key/${encodeURIComponent(key)}`, { retry: true, signal });
  } catch (e) {
    if (stopped(e)) return;
    inFlight = false;
    ctx.lock(false);
    if (e.handled) return;
    show($('[data-testid=progress]'), false);
    if (e instanceof Problem && e.status === 404) {
      clearPending();
      ctx.back();
      showErrorKey('confirm.not_placed');
    } else {
      showError(e);
      show($('#confirm-back'), true);
    }
    return;
  }
  inFlight = false;
  ctx.ordered(order.id);
  clearPending();
  ctx.lock(false);
  if (track(order)) poll(order.id, signal);
}

/** Wires the step's controls once; `c` = {draft(), buildSale(), subscriber(), newKey(), ordered(id), done(order), lock(bool), back(), newSale()}. */
export function init(c) {
  ctx = c;
  $('#confirm').addEventListener('click', onConfirm);
  $('#confirm-back').addEventListener('click', () => {
    if (!inFlight) ctx.back();
  });
  $('#failed-new-sale').addEventListener('click', () => ctx.newSale());
}

/** True while the sale's request is out (the page must not leave it then). */
export function sending() {
  return inFlight;
}

/** Stops any request or polling of this step (the sale was left or the session lost). */
export function stop() {
  if (ctl) ctl.abort();
  ctl = null;
  inFlight = false;
}

/** Shows the step: a fresh summary, or the resumed confirmation of a reloaded page. */
export function enter() {
  stop();
  ctl = new AbortController();
  const d = ctx.draft();
  const pending = loadPending();
  request = null;
  renderSummary(d, ctx.subscriber());
  show($('#failed-new-sale'), false);
  show($('[data-testid=progress]'), false);
  $('[data-testid=progress]').dataset.status = '';
  if (d.orderId) {
    show($('#confirm'), false);
    show($('#confirm-back'), false);
    setProgress('checking');
    poll(d.orderId, ctl.signal);
  } else if (pending) {
    recover(pending.key, ctl.signal);
  } else {
    show($('#confirm'), true);
    show($('#confirm-back'), true);
    $('#confirm').disabled = false;
  }
}
