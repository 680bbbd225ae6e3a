// Which screen is up (pairing, sign-in, sale, recent sales, after-sales) and which sale step: only the
// current one is visible (the `hidden` attribute), and focus moves to it.

import { $, $$, show, focusFirst } from './dom.js';
import { clearErrors } from './errors.js';

/** Shows screen `name` (`pair`, `sign-in`, `sale`, `recent`, `lines`, or `loading`). */
export function showScreen(name) {
  clearErrors();
  show($('#loading'), name === 'loading');
  for (const s of $$('[data-screen]')) show(s, s.dataset.screen === name);
  const signedIn = name === 'sale' || name === 'recent' || name === 'lines';
  show($('#nav'), signedIn);
  $('#nav-sale').setAttribute('aria-current', name === 'sale' ? 'page' : 'false');
  $('#nav-recent').setAttribute('aria-current', name === 'recent' ? 'page' : 'false');
  $('#nav-lines').setAttribute('aria-current', name === 'lines' ? 'page' : 'false');
  const section = $(`[data-screen="${name}"]`);
  if (section && name !== 'sale') focusFirst(section);
}

/** Shows sale step `name` and moves focus to its first input or heading. */
export function showStep(name) {
  for (const s of $$('[data-step]')) show(s, s.dataset.step === name);
  for (const li of $$('[data-step-mark]')) {
    if (li.dataset.stepMark === name) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  }
  const section = $(`[data-step="${name}"]`);
  if (section) focusFirst(section);
}


/** Disables the header's navigation while a sale is being placed (it must not be lost). */
export function lockNav(locked) {
  for (const id of ['#nav-sale', '#nav-recent', '#nav-lines', '#sign-out']) $(id).disabled = locked;
}
