// Recent sales: this terminal's sales of the last 24 hours, newest first, with their
// times in local time and their status in words.

import { $, h, show } from './dom.js';
import { tx, plain, has, currentLang, onLangChange } from './i18n.js';
import { call } from './api.js';
import { showError, clearErrors } from './errors.js';

let sales = [];
let ctl = null;

// The list holds one day: the time of day is enough (the full date is the cell's title).
function localTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return ['', ''];
  const lang = currentLang();
  return [d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' }), d.toLocaleString(lang)];
}

// Long identifiers by their last characters, which clerks read out; the whole in the title.
function tail(id, n) {
  const s = String(id || '');
  return [s.length > n ? `…${s.slice(-n)}` : s, s];
}

function cell(text, key, params) {
  const td = h('td');
  if (key) tx(td, key, params);
  else plain(td, text || '');
  return td;
}

function shortCell([shown, full]) {
  const td = cell(shown);
  if (full && full !== shown) td.title = full;
  return td;
}

function render() {
  const body = $('#recent-body');
  body.replaceChildren();
  for (const o of sales) {
    const status = String(o.status || '');
    const esim = o.sim && o.sim.type === 'esim';
    const tr = h('tr', { attrs: { 'data-testid': 'sale-row', 'data-order': o.id || '', 'data-status': status } });
    tr.append(
      shortCell(localTime(o.created_at)),
      has(`state.${status}`) ? cell('', `state.${status}`) : cell('', 'state.unknown', { status }),
      cell(o.msisdn),
      esim ? cell('', 'summary.esim') : shortCell(tail(o.iccid || (o.sim && o.sim.iccid), 6)),
      cell(o.product),
      shortCell(tail(o.id, 6)),
    );
    body.append(tr);
  }
  show($('#recent-empty'), sales.length === 0);
}

/** Loads and shows the recent sales. */
export async function load() {
  stop();
  ctl = new AbortController();
  const signal = ctl.signal;
  clearErrors();
  tx($('#recent-state'), 'recent.loading');
  try {
    const answer = await call('GET', '/sales', { retry: true, signal });
    sales = Array.isArray(answer && answer.sales) ? answer.sales : [];
    plain($('#recent-state'), '');
    render();
  } catch (e) {
    plain($('#recent-state'), '');
    if (e.name === 'AbortError' || e.handled) return;
    showError(e);
  }
}

/** Stops a load in progress (the clerk left the view). */
export function stop() {
  if (ctl) ctl.abort();
  ctl = null;
}

/** Wires the view's controls once. */
export function init() {
  $('#recent-refresh').addEventListener('click', load);
  onLangChange(() => {
    if (sales.length) render();
  });
}
