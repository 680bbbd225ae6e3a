// The page's message files (gateway/terminal/i18n/*.json): what the clerk must see
// instead of a raw code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../terminal/i18n');
const files = {};

/// The message file of `lang` (`en`, `zh-CN`).
export function messages(lang) {
  files[lang] ??= JSON.parse(fs.readFileSync(path.join(dir, `${lang}.json`), 'utf8'));
  return files[lang];
}

/// The message `key` of `lang`, failing clearly when the file lacks it.
export function message(lang, key) {
  const m = messages(lang)[key];
  if (m === undefined) throw new Error(`${lang}.json has no ${key}`);
  return m;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/// A pattern matching the message `key` of `lang` with any values in its `{placeholders}`.
export function messagePattern(lang, key) {
  const parts = message(lang, key).split(/\{\w+\}/).map(escape);
  return new RegExp(parts.join('.*'), 's');
}
