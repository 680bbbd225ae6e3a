// Network loss: the banner that says the sale is safe, and the back-off between retries.
// A retried call repeats the same request (a sale keeps its Idempotency-Key), so a retry
// can never create a second line.

import { $, show } from './dom.js';

const DELAYS_MS = [1000, 2000, 4000, 8000];
const MAX_DELAY_MS = 10000;

/** The wait before retry number `n` (0-based): 1 s, 2 s, 4 s, 8 s, then 10 s. */
export function backoff(n) {
  return n < DELAYS_MS.length ? DELAYS_MS[n] : MAX_DELAY_MS;
}

/** Shows or hides `[data-testid=offline]`. */
export function setOffline(lost) {
  show($('#offline'), lost);
}

/** Resolves after `ms`, or rejects with an AbortError when `signal` aborts first. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException('aborted', 'AbortError'));
      return;
    }
    const timer = setTimeout(resolve, ms);
    if (signal) {
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(new DOMException('aborted', 'AbortError'));
        },
        { once: true },
      );
    }
  });
}
