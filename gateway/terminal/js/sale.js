// The sale, step by step: product → SIM → number → customer → confirm → done. This
// module owns the draft (draft.js keeps it across a reload, without the subscriber) and
// moves between the steps; each step's module owns its own controls. A number held for
// the sale (numbers.js) is given back when the sale is left unplaced.

import { $, h } from './dom.js';
import { session, product } from './session.js';
import { showStep, lockNav } from './screens.js';
import { loadDraft, saveDraft, loadPending, clearDraft } from './draft.js';
import { clearErrors } from './errors.js';
import { newKey } from './keys.js';
import * as sim from './sim.js';
import * as numbers from './numbers.js';
import * as customer from './customer.js';
import * as confirm from './confirm.js';
import * as done from './done.js';

let draft = null;

function save() {
  if (draft) saveDraft(draft);
}

/** The sale as the gateway takes it (`POST /terminal/api/sales[/validate]`). */
function buildSale() {
  const msisdn = draft.hold ? { mode: 'reservation', reservation_id: draft.hold.id } : { mode: 'auto' };
  const sale = { product: draft.product, sim: draft.sim, msisdn };
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

/** The draft's hold if the sale never went out (a placed sale used it up), else null. */
function unusedHold() {
  if (!draft || !draft.hold || draft.orderId || loadPending()) return null;
  return draft.hold;
}

/** Gives back the sale's unused hold (best effort) and forgets it. */
function dropHold() {
  const hold = unusedHold();
  if (!hold) return Promise.resolve();
  draft.hold = null;
  draft.msisdn = { mode: 'auto' };
  save();
  return numbers.release(hold);
}

function goTo(step) {
  clearErrors();
  if (step !== 'sim') sim.leave();
  if (step !== 'number') numbers.leave();
  // Back at the product, the clerk starts over: the number picked is not kept.
  if (step === 'product') dropHold();
  if (step === 'confirm' && !draft.key && !draft.orderId) {
    // Once per sale: every confirmation of this sale, and every retry, uses this key.
    draft.key = newKey();
  }
  draft.step = step;
  save();
  const p = product(draft.product);
  if (step === 'product') renderProducts();
  if (step === 'sim') sim.enter(p, draft.sim);
  if (step === 'number') numbers.enter();
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
  numbers.reset();
  draft = { step: 'product', product: null, sim: null, msisdn: { mode: 'auto' }, numberMode: 'auto', hold: null };
  lockNav(false);
  goTo('product');
}

/**
 * Leaves the sale: the draft, the customer and the codes are forgotten, and the hold is
 * given back unless `release` is false (a lost pairing: the gateway would refuse it).
 */
export function abandonSale({ release = true } = {}) {
  if (release) dropHold();
  confirm.stop();
  sim.leave();
  numbers.reset();
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
  numbers.leave();
}

/** Gives back an unused hold and waits for it (before signing out, while the clerk may). */
export function releaseHold() {
  return dropHold();
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
  numbers.init({ draft: () => draft, save, next: () => goTo('customer'), back: () => goTo('sim') });
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
