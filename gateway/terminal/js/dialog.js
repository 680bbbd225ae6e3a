// The page's own confirmation dialog (`#confirm-dialog`, a modal `<dialog>`), never
// `window.confirm`: its words come from the message files and follow the language.

import { $ } from './dom.js';
import { tx } from './i18n.js';

let answer = null;

/** Asks the message `key` (with `params`); resolves to true when the clerk confirms. */
export function ask(key, params) {
  const dlg = $('#confirm-dialog');
  if (dlg.open) return Promise.resolve(false);
  tx($('#confirm-dialog-text'), key, params);
  dlg.returnValue = '';
  dlg.showModal();
  // The safe choice has the focus: Enter or a stray tap does not go ahead.
  $('#confirm-dialog-cancel').focus();
  return new Promise((resolve) => {
    answer = resolve;
  });
}

/** Closes the dialog as cancelled (the view was left). */
export function dismiss() {
  const dlg = $('#confirm-dialog');
  if (dlg.open) dlg.close('cancel');
}

/** Wires the dialog once. */
export function init() {
  const dlg = $('#confirm-dialog');
  dlg.addEventListener('close', () => {
    const resolve = answer;
    answer = null;
    if (resolve) resolve(dlg.returnValue === 'ok');
  });
}
