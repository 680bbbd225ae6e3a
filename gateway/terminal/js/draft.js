// The sale in progress, kept in sessionStorage so a reload comes back to it. The draft
// holds the product, the SIM, the number mode, the step, the Idempotency-Key and, once
// known, the order id; never the subscriber (name and ID number live in memory only).
//
// The one exception is the pending confirmation. From the moment `#confirm` is clicked
// until the gateway answers with the order id, the exact request body (subscriber
// included) and its key are kept under PENDING_KEY. Trade-off: a reload in that window
// must repeat the very same bytes with the same Idempotency-Key, or the gateway cannot
// tell the repeat from a new sale (a second line for one customer) or refuses it as a
// key reused with another body; the body cannot be rebuilt without the subscriber. So
// the ID number sits in this tab's sessionStorage (never localStorage, never a URL) for
// the seconds the request is in flight, and is deleted as soon as the order id is known.

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

/** The pending confirmation `{key, body}` (body: the exact JSON text sent), or null. */
export function loadPending() {
  const p = read(PENDING_KEY);
  return p && typeof p.key === 'string' && typeof p.body === 'string' ? p : null;
}

/** Keeps the exact request of a confirmation until its order id is known. */
export function savePending(key, body) {
  write(PENDING_KEY, { key, body });
}

/** Deletes the pending request body (the order id is known, or the sale was refused). */
export function clearPending() {
  remove(PENDING_KEY);
}

/** Forgets the sale entirely (new sale, abandoned sale, lost pairing). */
export function clearDraft() {
  remove(DRAFT_KEY);
  remove(PENDING_KEY);
}
