// Idempotency-Keys: a fresh UUID for each request that must not happen twice (a sale, a
// hold, an after-sales order). A retry of the same request reuses its key.

/** A fresh random UUID (v4). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context (plain-HTTP development) randomUUID is missing.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
