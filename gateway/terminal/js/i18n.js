// Every word the page shows comes from the message files (`i18n/en.json`,
// `i18n/zh-CN.json`). Elements name their message in `data-i18n` (text) and
// `data-i18n-attr` (`attr:key;attr:key`), with parameters in `data-i18n-params` (JSON),
// so a language switch re-translates the whole page in place.

export const LANGS = ['en', 'zh-CN'];
const STORE_KEY = 'simgw.lang';
const messages = { en: {}, 'zh-CN': {} };
let lang = 'en';
const listeners = [];

/** Loads both message files (a missing one leaves its language falling back to English). */
export async function loadMessages() {
  await Promise.all(
    LANGS.map(async (l) => {
      try {
        const res = await fetch(new URL(`../i18n/${l}.json`, import.meta.url), {
          credentials: 'same-origin',
        });
        if (res.ok) messages[l] = await res.json();
      } catch {
        // Offline at load: keys stay visible rather than the page failing.
      }
    }),
  );
}

/** The language to start in: the remembered choice, else the browser's (zh* → zh-CN). */
export function initialLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORE_KEY);
  } catch {
    // Storage may be unavailable (private mode); the browser's languages decide.
  }
  if (LANGS.includes(saved)) return saved;
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const p of prefs) {
    const low = String(p).toLowerCase();
    if (low.startsWith('zh')) return 'zh-CN';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

/** The current language. */
export function currentLang() {
  return lang;
}

/** True when a message exists for `key` (in the current language or English). */
export function has(key) {
  return key in messages[lang] || key in messages.en;
}

/** The message `key` in the current language with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = messages[lang][key] ?? messages.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] === undefined ? '' : String(params[name])));
}

/** Sets `el`'s text to message `key` and remembers key and params for a language switch. */
export function tx(el, key, params) {
  el.dataset.i18n = key;
  if (params && Object.keys(params).length) el.dataset.i18nParams = JSON.stringify(params);
  else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
}

/** Sets `el`'s text to something that is not a message (a server's detail, an id). */
export function plain(el, text) {
  delete el.dataset.i18n;
  delete el.dataset.i18nParams;
  el.textContent = text;
}

function paramsOf(el) {
  try {
    return el.dataset.i18nParams ? JSON.parse(el.dataset.i18nParams) : {};
  } catch {
    return {};
  }
}

/** Translates every `[data-i18n]` and `[data-i18n-attr]` under `root`. */
export function applyAll(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n, paramsOf(el));
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key, paramsOf(el)));
    }
  }
}

/** Switches the page to `l`, remembers it, re-translates, and tells the listeners. */
export function setLang(l) {
  lang = LANGS.includes(l) ? l : 'en';
  document.documentElement.lang = lang;
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch {
    // Not remembered; the switch still applies to this page.
  }
  applyAll();
  for (const fn of listeners) fn(lang);
}

/** Calls `fn(lang)` after every language switch (views that format dates re-render). */
export function onLangChange(fn) {
  listeners.push(fn);
}
