// The sale in progress, kept in sessionStorage so a reload comes back to it. The draft
// holds the product, the SIM, the number mode, the step, the Idempotency-Key and, once
// known, the order id; never the subscriber (name and ID number live in memory only).
//
// A confirmation sent but not yet answered is marked by its Idempotency-Key alone
// (PENDING_KEY). The request body, with the subscriber, lives in memory only: a page
// reloaded in that window asks the gateway for the sale made under the key
// (`GET /terminal/api/sales/by-key/{key}`) instead of sending the body again, so the ID
// number never reaches browser storage (Chromium keeps sessionStorage on disk for session
// restore).

const DRAFT_KEY = 'simgw.draft';
const PENDING_KEY = 'simgw.pending';

function read(key) {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or unavailable: the sale goes on, a reload would lose its place.
  }
}

function remove(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // Nothing stored.
  }
}

/** The saved draft (`{step, product, sim, msisdn, key?, orderId?}`), or null. */
export function loadDraft() {
  const d = read(DRAFT_KEY);
  if (!d || typeof d !== 'object' || typeof d.step !== 'string') return null;
  // Defence in depth: a draft never carries the subscriber, whatever wrote it.
  delete d.subscriber;
  return d;
}

/** Saves the draft without any subscriber. */
export function saveDraft(d) {
  const { subscriber, ...rest } = d;
  write(DRAFT_KEY, rest);
}

/** The key of a confirmation sent but not answered (`{key}`), or null. */
export function loadPending() {
  const p = read(PENDING_KEY);
  return p && typeof p.key === 'string' ? { key: p.key } : null;
}

/** Marks a confirmation sent under `key`, until its order id is known. */
export function savePending(key) {
  write(PENDING_KEY, { key });
}

/** Forgets the mark (the order id is known, or the sale was refused). */
export function clearPending() {
  remove(PENDING_KEY);
}

/** Forgets the sale entirely (new sale, abandoned sale, lost pairing). */
export function clearDraft() {
  remove(DRAFT_KEY);
  remove(PENDING_KEY);
}
