// Second real-person verification (二次实人认证) at the counter: a line waiting for one, or
// suspended because it was not done in time or failed, shows this form to any clerk. The
// customer signs the fraud-risk notice (its number is typed or scanned) and the reader
// runs a face match; the gateway puts both to the identity verifier with the identity the
// line was sold on, and the verifier decides: passed clears the line (or resumes it),
// failed suspends it until a check passes. The face match is held in memory only.

import { $, h, show } from './dom.js';
import { tx, plain } from './i18n.js';
import { call } from './api.js';
import { session } from './session.js';
import { faceMatch, ReaderError } from './reader.js';
import { showError, showErrorKey, clearErrors } from './errors.js';

let face = null;
let faceFor = null;
let working = false;
let current = null;
let done = null;

/** Whether `sub` waits for (or was suspended for want of) a second verification. */
export function needsVerification(sub) {
  return !!sub && sub.state !== 'terminated'
    && (sub.state === 'pending_verification' || (sub.verification && sub.verification.state === 'suspended'));
}

function status(key, params) {
  const el = $('[data-testid=verify-status]');
  if (!key) plain(el, '');
  else tx(el, key, params);
}

function renderFace() {
  const el = $('#verify-face-status');
  if (!face) tx(el, 'verify.face_none');
  else if (face.liveness) tx(el, 'verify.face_done', { score: Math.round(face.score * 100) });
  else tx(el, 'verify.face_no_liveness');
}

function update() {
  if (!$('#verify-form')) return;
  $('#verify-face').disabled = working;
  $('#verify-send').disabled = working;
  $('#verify-notice').disabled = working;
  renderFace();
}

async function onFace() {
  if (working || !current) return;
  clearErrors();
  working = true;
  update();
  status('verify.face_running');
  const msisdn = current.msisdn;
  try {
    const f = await faceMatch(session().id_reader_url);
    if (current && current.msisdn === msisdn) {
      face = f;
      faceFor = msisdn;
    }
    status(null);
  } catch (e) {
    status(null);
    showErrorKey(e instanceof ReaderError ? `reader.${e.code}` : 'reader.reader_error');
  }
  working = false;
  update();
}

async function onSend(ev) {
  ev.preventDefault();
  if (working || !current) return;
  clearErrors();
  const notice = $('#verify-notice').value.trim();
  if (!notice || !face || faceFor !== current.msisdn) {
    showErrorKey('verify.needed');
    (notice ? $('#verify-face') : $('#verify-notice')).focus();
    return;
  }
  working = true;
  update();
  status('verify.working');
  const msisdn = String(current.msisdn);
  try {
    const body = {
      risk_notice: notice,
      face_match: { transaction_id: face.transaction_id, score: face.score, liveness: face.liveness },
    };
    const answer = await call('POST', `/lines/${encodeURIComponent(msisdn)}/verification`, { body });
    face = null;
    faceFor = null;
    $('#verify-notice').value = '';
    const passed = answer && answer.verifier && answer.verifier.outcome === 'pass';
    const result = $('[data-testid=verify-result]');
    result.dataset.outcome = passed ? 'passed' : 'failed';
    tx(result, passed ? 'verify.passed' : 'verify.failed', { code: String((answer.verifier && answer.verifier.code) || '') });
    show(result, true);
    status(null);
    working = false;
    if (done) done(answer);
    return;
  } catch (e) {
    status(null);
    if (!e.handled) showError(e);
  }
  working = false;
  update();
}

function form() {
  return h('form', { id: 'verify-form', noValidate: true, on: { submit: onSend } },
    h('h2', { i18n: 'verify.title' }),
    h('p', { className: 'hint', i18n: 'verify.hint' }),
    h('div', { className: 'field' },
      h('label', { htmlFor: 'verify-notice', i18n: 'verify.notice' }),
      h('input', {
        type: 'text', id: 'verify-notice', name: 'verify-notice', autocomplete: 'off', spellcheck: false,
        className: 'code-input', attrs: { maxlength: '128' },
      })),
    h('div', { className: 'actions' },
      h('button', { type: 'button', id: 'verify-face', className: 'secondary', i18n: 'verify.face', on: { click: onFace } }),
      h('p', { className: 'status', id: 'verify-face-status', attrs: { 'aria-live': 'polite' } })),
    h('button', { type: 'submit', id: 'verify-send', className: 'primary', i18n: 'verify.send' }),
    h('p', { className: 'status', attrs: { 'data-testid': 'verify-status', 'aria-live': 'polite' } }));
}

/**
 * Shows the form under the line when `sub` needs a verification (`onDone(answer)` gets
 * the gateway's answer: the line after it, with `verifier` and any `order`).
 */
export function renderVerify(sub, onDone) {
  const box = $('#line-verify');
  done = onDone;
  if (!current || !sub || current.msisdn !== sub.msisdn) {
    face = null;
    faceFor = null;
    show($('[data-testid=verify-result]'), false);
  }
  current = sub;
  if (!needsVerification(sub)) {
    box.replaceChildren();
    return;
  }
  if (!$('#verify-form')) box.replaceChildren(form());
  update();
}

/** Forgets the face match and the form (the clerk left the view or signed out). */
export function resetVerify() {
  face = null;
  faceFor = null;
  working = false;
  current = null;
  $('#line-verify').replaceChildren();
  show($('[data-testid=verify-result]'), false);
}
