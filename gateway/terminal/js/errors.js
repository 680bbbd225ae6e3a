// Errors and refusals in plain words. `[data-testid=error]` says what went wrong and what
// to do next, from `error.<code>` in the message files (the server's detail where the
// page has no words for a code); `[data-testid=refusal]` holds a compliance refusal
// with `data-code` = the problem's code.

import { $, show } from './dom.js';
import { has, t, tx, plain } from './i18n.js';
import { NetworkLost } from './api.js';

// Codes whose server detail carries what the clerk needs (tries left, locked until).
const WITH_DETAIL = new Set(['clerk_sign_in_failed', 'clerk_locked']);

function paramsOf(p) {
  const b = p.body || {};
  return {
    detail: p.detail || '',
    retry_after: b.retry_after ?? '',
    limit: b.limit ?? '',
    active: b.active ?? '',
    window: b.window ? t(`window.${b.window}`) : '',
  };
}

function fill(el, p) {
  el.replaceChildren();
  const main = document.createElement('span');
  if (p instanceof NetworkLost) {
    tx(main, 'error.network_lost');
  } else if (p && p.code && has(`error.${p.code}`)) {
    tx(main, `error.${p.code}`, paramsOf(p));
  } else if (p && p.detail) {
    tx(main, 'error.unknown_with_detail', { detail: p.detail });
  } else {
    tx(main, 'error.unknown', { code: (p && p.code) || '' });
  }
  el.append(main);
  if (p && WITH_DETAIL.has(p.code) && p.detail) {
    const extra = document.createElement('span');
    extra.className = 'detail';
    plain(extra, p.detail);
    el.append(' ', extra);
  }
}

/** Shows the problem `p` (a `Problem`, a `NetworkLost`, or `{code, detail}`) in the error box. */
export function showError(p) {
  const el = $('[data-testid=error]');
  fill(el, p);
  el.dataset.code = (p && p.code) || '';
  show(el, true);
}

/** Shows the message `key` (a page-side check) in the error box. */
export function showErrorKey(key, params) {
  const el = $('[data-testid=error]');
  el.replaceChildren();
  const span = document.createElement('span');
  tx(span, key, params);
  el.append(span);
  el.dataset.code = key;
  show(el, true);
}

/** Shows a refusal of the sale with its code. */
export function showRefusal(p) {
  const el = $('[data-testid=refusal]');
  fill(el, p);
  el.dataset.code = p.code;
  show(el, true);
  el.focus();
}

/** Clears the error box and the refusal. */
export function clearErrors() {
  for (const sel of ['[data-testid=error]', '[data-testid=refusal]']) {
    const el = $(sel);
    el.replaceChildren();
    delete el.dataset.code;
    show(el, false);
  }
}
