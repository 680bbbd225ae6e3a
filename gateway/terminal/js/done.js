// The done step: a physical card goes into the phone; an eSIM's QR is shown large with its
// activation code (and the confirmation code, to give on another channel). The receipt
// (`#receipt`, printed by `#print-receipt`) never holds the QR or any code.

import { $, show } from './dom.js';
import { tx, plain, currentLang, onLangChange } from './i18n.js';
import { session, clerkLabel } from './session.js';

let shown = null;
let qrTries = 0;

function localTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(currentLang());
}

function fillReceipt(order) {
  const s = session() || {};
  const esim = order.sim && order.sim.type === 'esim';
  plain($('#receipt-store'), s.store || '');
  plain($('#receipt-terminal'), s.terminal || '');
  plain($('#receipt-clerk'), clerkLabel());
  plain($('#receipt-date'), localTime(order.created_at || new Date().toISOString()));
  plain($('#receipt-order'), order.id || '');
  plain($('#receipt-product'), order.product || '');
  plain($('#receipt-msisdn'), order.msisdn || '');
  if (esim) tx($('#receipt-sim'), 'summary.esim');
  else plain($('#receipt-sim'), order.iccid || (order.sim && order.sim.iccid) || '');
}

function qrUrl(id, attempt) {
  const base = `/terminal/api/sales/${encodeURIComponent(id)}/qr.svg`;
  return attempt ? `${base}?try=${attempt}` : base;
}

/** Shows the finished sale `order`. */
export function enter(order) {
  shown = order;
  const esim = order.sim && order.sim.type === 'esim';
  show($('[data-testid=insert-card]'), !esim);
  show($('#esim-done'), esim);
  const img = $('#esim-qr');
  if (esim) {
    qrTries = 0;
    img.dataset.order = order.id;
    img.src = qrUrl(order.id, 0);
    const code = order.activation_code || (order.esim && order.esim.activation_code) || '';
    plain($('[data-testid=activation-code]'), code);
    const cc = order.confirmation_code || (order.esim && order.esim.confirmation_code) || '';
    plain($('[data-testid=confirmation-code]'), cc);
    show($('#confirmation-block'), !!cc);
  } else {
    img.removeAttribute('src');
    plain($('[data-testid=activation-code]'), '');
    plain($('[data-testid=confirmation-code]'), '');
    show($('#confirmation-block'), false);
  }
  fillReceipt(order);
}

/** Forgets the shown sale (its codes leave the page). */
export function reset() {
  shown = null;
  $('#esim-qr').removeAttribute('src');
  plain($('[data-testid=activation-code]'), '');
  plain($('[data-testid=confirmation-code]'), '');
  for (const id of ['store', 'terminal', 'clerk', 'date', 'order', 'product', 'msisdn', 'sim']) plain($(`#receipt-${id}`), '');
}

/** Wires the step's controls once; `newSale()` starts the next sale. */
export function init(newSale) {
  $('#print-receipt').addEventListener('click', () => window.print());
  $('#new-sale').addEventListener('click', () => newSale());
  const img = $('#esim-qr');
  img.addEventListener('error', () => {
    // A lost network while the QR loaded: try again a few times, a little later each.
    if (!shown || !img.getAttribute('src') || qrTries >= 5) return;
    qrTries += 1;
    const id = img.dataset.order;
    setTimeout(() => {
      if (shown && shown.id === id) img.src = qrUrl(id, qrTries);
    }, 1000 * qrTries);
  });
  onLangChange(() => {
    if (shown) fillReceipt(shown);
  });
}
