// Pairing the device (a one-time code from the operator) and the clerk's sign-in and
// sign-out. The PIN is sent once and the field cleared; nothing of it is kept.

import { $ } from './dom.js';
import { call } from './api.js';
import { setSession, dropClerk } from './session.js';
import { showError, clearErrors } from './errors.js';

let ctx = null;
let busy = false;

async function guarded(button, fn) {
  if (busy) return;
  busy = true;
  button.disabled = true;
  clearErrors();
  try {
    await fn();
  } catch (e) {
    if (!e.handled) showError(e);
  } finally {
    busy = false;
    button.disabled = false;
  }
}

async function onPair(ev) {
  ev.preventDefault();
  const input = $('#pair-code');
  // The gateway takes the code with or without its dash, in any case.
  const code = input.value.trim().toUpperCase();
  if (!code) {
    input.focus();
    return;
  }
  await guarded($('#pair-submit'), async () => {
    const s = await call('POST', '/pair', { body: { code } });
    input.value = '';
    setSession(s);
    ctx.paired(s);
  });
}

async function onSignIn(ev) {
  ev.preventDefault();
  const id = $('#clerk-id');
  const pin = $('#clerk-pin');
  if (!id.value.trim()) {
    id.focus();
    return;
  }
  if (!pin.value) {
    pin.focus();
    return;
  }
  await guarded($('#sign-in-submit'), async () => {
    try {
      const s = await call('POST', '/sign-in', { body: { clerk: id.value.trim(), pin: pin.value } });
      setSession(s);
      id.value = '';
      ctx.signedIn(s);
    } finally {
      pin.value = '';
    }
  });
}

/** Signs the clerk out (the device stays paired). */
export async function signOut() {
  await guarded($('#sign-out'), async () => {
    // While the clerk is still signed in: what the sale held is given back first.
    await ctx.leaving();
    await call('POST', '/sign-out', { retry: false });
    dropClerk();
    ctx.signedOut();
  });
}

/** Wires the forms once; `c` = {paired(session), signedIn(session), leaving(), signedOut()}. */
export function init(c) {
  ctx = c;
  $('#pair-form').addEventListener('submit', onPair);
  $('#sign-in-form').addEventListener('submit', onSignIn);
  $('#sign-out').addEventListener('click', signOut);
}
