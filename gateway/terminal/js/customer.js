// The customer step: who the line is for. Where the market reads ID cards
// (`identity.capture == 'card_reader'`) the page has no manual ID inputs at all, only the
// reader; elsewhere the clerk types the document and may use the reader. The card and
// the face match are held in this module's memory only: never stored, logged or put in
// a URL. `#validate` asks the gateway whether the sale would be allowed.

import { $, h, show } from './dom.js';
import { tx, plain } from './i18n.js';
import { call, Problem } from './api.js';
import { readCard, faceMatch, maskId, ReaderError } from './reader.js';
import { showError, showErrorKey, showRefusal, clearErrors } from './errors.js';
import { ID_TYPES } from './codes.js';

let card = null;
let face = null;
let fromCard = null;
let busy = false;
let ctx = null;
// Bumped when the sale is left: a late answer of the reader for an old sale is dropped.
let generation = 0;
let validating = null;

function cardMode(s) {
  return s.identity && s.identity.capture === 'card_reader';
}

function field(id, labelKey, input) {
  input.id = id;
  return h('div', { className: 'field' }, h('label', { htmlFor: id, i18n: labelKey }), input);
}

/** Builds the manual ID fields (only where typing an ID is allowed). */
function manualFields() {
  const type = h('select', { name: 'id_type' });
  for (const v of ID_TYPES) {
    const opt = h('option', { value: v });
    tx(opt, `idtype.${v}`);
    type.append(opt);
  }
  const text = (attrs) => h('input', { type: 'text', autocomplete: 'off', spellcheck: false, attrs });
  return [
    field('customer-name', 'customer.name', text({ name: 'name', maxlength: '100' })),
    field('id-type', 'customer.id_type', type),
    field('id-number', 'customer.id_number', text({ name: 'id_number', maxlength: '40', autocapitalize: 'characters' })),
    field(
      'customer-nationality',
      'customer.nationality',
      text({ name: 'nationality', maxlength: '3', autocapitalize: 'characters', 'aria-describedby': 'nationality-hint' }),
    ),
    h('p', { id: 'nationality-hint', className: 'hint', i18n: 'customer.nationality_hint' }),
  ];
}

function manualValues() {
  if (!$('#id-number')) return null;
  return {
    name: $('#customer-name').value.trim(),
    id_type: $('#id-type').value,
    id_number: $('#id-number').value.trim().toUpperCase(),
    nationality: $('#customer-nationality').value.trim().toUpperCase(),
  };
}

function renderCard() {
  const box = $('[data-testid=card-summary]');
  box.replaceChildren();
  if (!card) {
    show(box, false);
    return;
  }
  const row = (key, value) => {
    const dd = h('dd');
    plain(dd, value);
    return [h('dt', { i18n: key }), dd];
  };
  const dl = h('dl', {}, ...row('customer.card_name', card.name), ...row('customer.card_id', maskId(card.id_number)));
  const title = h('p', { className: 'ok' });
  tx(title, 'customer.card_read');
  box.append(title, dl);
  show(box, true);
}

function renderFace() {
  const el = $('#face-status');
  if (!face) {
    show(el, false);
    return;
  }
  if (face.liveness) tx(el, 'customer.face_done', { score: Math.round(face.score * 100) });
  else tx(el, 'customer.face_no_liveness');
  show(el, true);
}

function readerProblem(e) {
  showErrorKey(e instanceof ReaderError ? `reader.${e.code}` : 'reader.reader_error');
}

/** Runs a reader call with the step busy; `apply(result)` only if the sale is still this one. */
async function withReader(statusKey, run, apply) {
  if (busy) return;
  const mine = generation;
  busy = true;
  clearErrors();
  updateButtons();
  tx($('#reader-status'), statusKey);
  let result = null;
  let failure = null;
  try {
    result = await run(ctx.session().id_reader_url);
  } catch (e) {
    failure = e;
  }
  if (mine !== generation) return;
  busy = false;
  plain($('#reader-status'), '');
  if (failure) readerProblem(failure);
  else apply(result);
  renderCard();
  renderFace();
  updateButtons();
}

function onReadCard() {
  return withReader('customer.reading', readCard, (c) => {
    card = c;
    face = null;
    if (manualValues()) {
      $('#customer-name').value = card.name;
      if (ID_TYPES.includes(card.id_type)) $('#id-type').value = card.id_type;
      $('#id-number').value = card.id_number;
      $('#customer-nationality').value = card.nationality || '';
      fromCard = manualValues();
    }
  });
}

function onFaceMatch() {
  return withReader('customer.face_running', faceMatch, (f) => {
    face = f;
  });
}

function updateButtons() {
  const s = ctx.session();
  if (!s) return;
  $('#read-card').disabled = busy;
  $('#face-match').disabled = busy || (cardMode(s) && !card);
  $('#validate').disabled = busy;
}

function same(a, b) {
  return a && b && Object.keys(a).every((k) => a[k] === b[k]);
}

/**
 * The `subscriber` of the sale, or undefined when nothing was read or entered (a market
 * that requires identity then refuses with `subscriber_required`).
 */
export function subscriber() {
  const evidence = face ? { face_match: { transaction_id: face.transaction_id, score: face.score, liveness: face.liveness } } : null;
  const m = manualValues();
  let s;
  if (m && !same(m, fromCard)) {
    if (!m.name && !m.id_number && !m.nationality) return undefined;
    s = { name: m.name, id_type: m.id_type, id_number: m.id_number, capture: { method: 'manual' } };
    if (m.nationality) s.nationality = m.nationality;
  } else if (card) {
    s = {
      name: card.name,
      id_type: card.id_type || 'resident_id',
      id_number: card.id_number,
      capture: { method: 'card_reader', reader_serial: card.reader_serial },
    };
    if (card.nationality) s.nationality = card.nationality;
  } else {
    return undefined;
  }
  if (evidence) s.evidence = evidence;
  return s;
}

/** Stops a validation in flight (the sale was left or the session lost). */
export function stop() {
  if (validating) validating.abort();
  validating = null;
  busy = false;
}

/** Forgets the customer (a new or abandoned sale). */
export function reset() {
  stop();
  generation += 1;
  plain($('#reader-status'), '');
  card = null;
  face = null;
  fromCard = null;
  busy = false;
  for (const id of ['#customer-name', '#id-number', '#customer-nationality']) {
    const el = $(id);
    if (el) el.value = '';
  }
  if ($('#id-type')) $('#id-type').value = ID_TYPES[0];
  $('#risk-signed').checked = false;
  renderCard();
  renderFace();
  if (ctx && ctx.session()) updateButtons();
}

async function onValidate(ev) {
  ev.preventDefault();
  if (busy) return;
  clearErrors();
  if (!$('#risk-signed').checked) {
    showErrorKey('customer.risk_needed');
    $('#risk-signed').focus();
    return;
  }
  busy = true;
  updateButtons();
  validating = new AbortController();
  try {
    await call('POST', '/sales/validate', { body: ctx.buildSale(), retry: true, signal: validating.signal });
    busy = false;
    ctx.next();
  } catch (e) {
    if (e.name === 'AbortError') return;
    busy = false;
    if (e.handled) return;
    if (e instanceof Problem && e.status >= 400 && e.status < 500 && e.code !== 'csrf_token_invalid') showRefusal(e);
    else showError(e);
  } finally {
    if (ctx) updateButtons();
  }
}

/** Wires the step's controls once; `c` = {session(), buildSale(), next(), back()}. */
export function init(c) {
  ctx = c;
  $('#read-card').addEventListener('click', onReadCard);
  $('#face-match').addEventListener('click', onFaceMatch);
  $('#risk-signed').addEventListener('change', () => {
    if ($('#risk-signed').checked && $('[data-testid=error]').dataset.code === 'customer.risk_needed') clearErrors();
  });
  $('#customer-form').addEventListener('submit', onValidate);
  $('#customer-back').addEventListener('click', () => ctx.back());
}

/** Shows the step for the session's identity rules (manual fields only where allowed). */
export function enter() {
  const s = ctx.session();
  const box = $('#manual-fields');
  if (cardMode(s)) {
    box.replaceChildren();
    fromCard = null;
  } else if (!$('#id-number')) {
    box.append(...manualFields());
  }
  tx($('#customer-hint'), cardMode(s) ? 'customer.hint_card' : s.identity && s.identity.required ? 'customer.hint_manual' : 'customer.hint_optional');
  show($('#face-match'), !!(s.identity && s.identity.face_match));
  renderCard();
  renderFace();
  updateButtons();
}
