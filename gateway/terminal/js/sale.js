// The sale, step by step: product → SIM → number → customer → confirm → done. This
// module owns the draft (draft.js keeps it across a reload, without the subscriber) and
// moves between the steps; each step's module owns its own controls.

import { $, h } from './dom.js';
import { session, product } from './session.js';
import { showStep, lockNav } from './screens.js';
import { loadDraft, saveDraft, loadPending, clearDraft } from './draft.js';
import { clearErrors } from './errors.js';
import * as sim from './sim.js';
import * as customer from './customer.js';
import * as confirm from './confirm.js';
import * as done from './done.js';

let draft = null;

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context (plain-HTTP development) randomUUID is missing.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function save() {
  if (draft) saveDraft(draft);
}

/** The sale as the gateway takes it (`POST /terminal/api/sales[/validate]`). */
function buildSale() {
  const sale = { product: draft.product, sim: draft.sim, msisdn: { mode: 'auto' } };
  const sub = customer.subscriber();
  if (sub) sale.subscriber = sub;
  return sale;
}

function renderProducts() {
  const box = $('#products');
  box.replaceChildren();
  const products = (session() && session().products) || [];
  for (const p of products) {
    const badges = h('span', { className: 'badges' });
    if (p.physical !== false) badges.append(h('span', { className: 'badge', i18n: 'product.badge_physical' }));
    if (p.esim === true) badges.append(h('span', { className: 'badge', i18n: 'product.badge_esim' }));
    const btn = h(
      'button',
      { type: 'button', className: 'product', attrs: { 'data-testid': `product-${p.id}` }, on: { click: () => chooseProduct(p.id) } },
      h('span', { className: 'product-id', text: p.id }),
      badges,
    );
    box.append(btn);
  }
  $('#products-empty').hidden = products.length > 0;
}

function goTo(step) {
  clearErrors();
  if (step !== 'sim') sim.leave();
  if (step === 'confirm' && !draft.key && !draft.orderId) {
    // Once per sale: every confirmation of this sale, and every retry, uses this key.
    draft.key = newKey();
  }
  draft.step = step;
  save();
  const p = product(draft.product);
  if (step === 'product') renderProducts();
  if (step === 'sim') sim.enter(p, draft.sim);
  if (step === 'customer') customer.enter();
  showStep(step);
  if (step === 'sim') sim.focus();
  if (step === 'confirm') confirm.enter();
}

function chooseProduct(id) {
  if (draft.product !== id) draft.sim = null;
  draft.product = id;
  goTo('sim');
}

/** Starts a new sale at the product step. */
export function startSale() {
  draft = { step: 'product', product: null, sim: null, msisdn: { mode: 'auto' } };
  lockNav(false);
  goTo('product');
}

/** Leaves the sale: the draft, the customer and the codes are forgotten. */
export function abandonSale() {
  confirm.stop();
  sim.leave();
  customer.reset();
  done.reset();
  clearDraft();
  draft = null;
  lockNav(false);
}

/** Stops background work without forgetting the draft (the session was lost). */
export function suspendSale() {
  confirm.stop();
  customer.stop();
  sim.leave();
}

/**
 * True while the sale's request is out (sent or being retried, its order id not yet
 * known): leaving then could lose track of a line being opened.
 */
export function placing() {
  return confirm.sending();
}

/**
 * Comes back to the saved sale after a reload or a new sign-in: a sale being confirmed
 * returns to its progress (never placed twice); one at the customer step or later goes
 * back to the customer step, since the customer's ID was not kept; earlier steps resume.
 */
export function resumeSale() {
  lockNav(false);
  const d = loadDraft();
  if (!d || !product(d.product)) {
    clearDraft();
    startSale();
    return;
  }
  draft = d;
  if (loadPending() || draft.orderId) {
    goTo('confirm');
  } else if (['customer', 'confirm', 'done'].includes(draft.step)) {
    goTo(draft.sim ? 'customer' : 'sim');
  } else if (draft.step === 'number' || draft.step === 'sim') {
    goTo(draft.sim || draft.step === 'sim' ? draft.step : 'sim');
  } else {
    goTo('product');
  }
}

/** Wires every step once. */
export function init() {
  sim.init({
    next: (s) => {
      draft.sim = s;
      goTo('number');
    },
    change: (s) => {
      draft.sim = s;
      save();
    },
    back: () => goTo('product'),
  });
  $('#number-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    draft.msisdn = { mode: 'auto' };
    goTo('customer');
  });
  $('#number-back').addEventListener('click', () => goTo('sim'));
  customer.init({ session, buildSale, next: () => goTo('confirm'), back: () => goTo('number') });
  confirm.init({
    draft: () => draft,
    buildSale,
    subscriber: customer.subscriber,
    newKey: () => {
      draft.key = newKey();
      save();
    },
    ordered: (id) => {
      draft.orderId = id;
      save();
    },
    done: (order) => {
      draft.step = 'done';
      save();
      done.enter(order);
      showStep('done');
    },
    lock: lockNav,
    back: () => goTo('customer'),
    newSale: () => {
      abandonSale();
      startSale();
    },
  });
  done.init(() => {
    abandonSale();
    startSale();
  });
}
