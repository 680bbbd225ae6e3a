// Small DOM helpers shared by every screen. No module builds markup from strings: text is
// always set with textContent, so nothing a server or a card reader sends can become HTML.

import { t } from './i18n.js';

/** The first element matching `sel` (under `root`), or null. */
export function $(sel, root = document) {
  return root.querySelector(sel);
}

/** Every element matching `sel` (under `root`), as an array. */
export function $$(sel, root = document) {
  return Array.from(root.querySelectorAll(sel));
}

/** Shows or hides `el` with the `hidden` attribute (hidden elements leave the tab order). */
export function show(el, visible) {
  if (el) el.hidden = !visible;
}

/**
 * Creates an element. `props`: `i18n` (a message key, kept in `data-i18n` so a language
 * switch re-translates it), `text`, `attrs` (attributes), `on` (event listeners), and
 * any other member set as a property (`type`, `id`, `className`, `checked`, …).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'i18n') {
      el.dataset.i18n = v;
      el.textContent = t(v);
    }
    else if (k === 'text') el.textContent = v;
    else if (k === 'attrs') for (const [a, av] of Object.entries(v)) el.setAttribute(a, av);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else el[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** Moves keyboard focus to the first usable text field of `section`, else to its heading. */
export function focusFirst(section) {
  const usable = (el) => !el.disabled && el.closest('[hidden]') === null;
  const input = $$('input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea', section).find(usable);
  const target = input || section.querySelector('h1, h2');
  if (target) target.focus();
}
