// The store terminal page: loads the messages and the session, then shows pairing,
// sign-in, the sale, the recent sales or after-sales. A pairing lost on any call (revoked, re-paired)
// returns to pairing; a clerk session lost returns to sign-in.

import { $ } from './dom.js';
import { loadMessages, initialLang, setLang, currentLang } from './i18n.js';
import { onAuthLost } from './api.js';
import { session, loadSession, dropClerk, dropSession } from './session.js';
import { showScreen } from './screens.js';
import { showError } from './errors.js';
import { clearDraft } from './draft.js';
import * as auth from './auth.js';
import * as sale from './sale.js';
import * as recent from './recent.js';
import * as lines from './lines.js';
import * as dialog from './dialog.js';

function toPairing() {
  const hadSession = !!session();
  // The pairing is gone: a hold cannot be given back (it lapses by itself).
  sale.abandonSale({ release: false });
  recent.stop();
  lines.reset();
  // A lost pairing may be a stolen device: nothing of the sale stays behind.
  clearDraft();
  dropSession();
  showScreen('pair');
  if (hadSession) showError({ code: 'terminal_not_paired' });
}

function toSignIn(lost) {
  const hadClerk = !!(session() && session().clerk);
  sale.suspendSale();
  recent.stop();
  // The next clerk may not be a supervisor, nor see what this one looked up.
  lines.reset();
  dropClerk();
  showScreen('sign-in');
  if (lost && hadClerk) showError({ code: 'clerk_not_signed_in' });
}

function toSale() {
  recent.stop();
  lines.stop();
  showScreen('sale');
  sale.resumeSale();
}

function afterSession(s) {
  if (!s) return;
  if (s.clerk) toSale();
  else toSignIn(false);
}

function wireHeader() {
  const lang = $('#lang');
  lang.value = currentLang();
  lang.addEventListener('change', () => setLang(lang.value));
  $('#nav-sale').addEventListener('click', () => {
    if (sale.placing()) return;
    // Leaving the current sale (or the recent list) always starts a fresh sale.
    sale.abandonSale();
    recent.stop();
    lines.stop();
    showScreen('sale');
    sale.startSale();
  });
  $('#nav-recent').addEventListener('click', () => {
    if (sale.placing()) return;
    sale.abandonSale();
    lines.stop();
    showScreen('recent');
    recent.load();
  });
  $('#nav-lines').addEventListener('click', () => {
    if (sale.placing()) return;
    sale.abandonSale();
    recent.stop();
    showScreen('lines');
    lines.enter();
  });
}

async function boot() {
  await loadMessages();
  setLang(initialLang());
  onAuthLost((code) => (code === 'terminal_not_paired' ? toPairing() : toSignIn(true)));
  wireHeader();
  auth.init({
    paired: afterSession,
    signedIn: () => toSale(),
    leaving: () => (sale.placing() ? Promise.resolve() : sale.releaseHold()),
    signedOut: () => {
      if (!sale.placing()) sale.abandonSale();
      toSignIn(false);
    },
  });
  sale.init();
  recent.init();
  lines.init();
  dialog.init();
  showScreen('loading');
  try {
    afterSession(await loadSession());
  } catch (e) {
    if (!e.handled) showError(e);
  }
}

boot();
