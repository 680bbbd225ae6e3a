// The session the gateway answered (`GET /terminal/api/session`): store, terminal, clerk,
// products, identity rules, the ID reader's address. Held in memory only.

import { $ } from './dom.js';
import { call, setCsrf } from './api.js';
import { plain } from './i18n.js';

let current = null;

/** The current session, or null before pairing. */
export function session() {
  return current;
}

/** Replaces the session (an answer of session, pair or sign-in) and updates the header. */
export function setSession(s) {
  current = s;
  setCsrf(s ? s.csrf_token : '');
  renderWho();
}

/** Forgets the clerk (after sign-out or a lost clerk session). */
export function dropClerk() {
  if (current) current = { ...current, clerk: null };
  renderWho();
}

/** Forgets everything (a revoked or lost pairing). */
export function dropSession() {
  setSession(null);
}

/** Loads the session; a lost pairing goes to the auth handler (and throws). */
export async function loadSession() {
  setSession(await call('GET', '/session', { retry: true }));
  return current;
}

/** The clerk's label: `C1 Name` (or just the id). */
export function clerkLabel() {
  const c = current && current.clerk;
  if (!c) return '';
  return c.name ? `${c.id} ${c.name}` : c.id;
}

function renderWho() {
  const el = $('[data-testid=who]');
  if (!el) return;
  const parts = current ? [current.store, current.terminal, clerkLabel()].filter(Boolean) : [];
  plain(el, parts.join(' · '));
}

/** The product of the session with id `id`. */
export function product(id) {
  return ((current && current.products) || []).find((p) => p.id === id) || null;
}
