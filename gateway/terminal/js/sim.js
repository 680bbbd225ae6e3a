// The SIM step: a physical card (its ICCID typed, scanned by a USB scanner that types
// and ends with Enter, or read by the camera) or an eSIM where the product offers one.
// The ICCID is checked as it is typed; `#sim-next` is enabled only when it is valid.

import { $, show } from './dom.js';
import { tx } from './i18n.js';
import { iccidState, normaliseIccid } from './luhn.js';
import { cameraSupported, startScan, stopScan } from './camera.js';
import { showErrorKey, clearErrors } from './errors.js';

let ctx = null;

function chosenType() {
  return $('#sim-esim').checked && !$('#sim-esim').disabled ? 'esim' : 'physical';
}

function valid() {
  return chosenType() === 'esim' || iccidState($('#iccid').value) === 'ok';
}

function update() {
  const physical = chosenType() === 'physical';
  show($('#iccid-area'), physical);
  const state = iccidState($('#iccid').value);
  const status = $('[data-testid=iccid-status]');
  status.dataset.state = state;
  tx(status, `iccid.${state}`, { count: normaliseIccid($('#iccid').value).length });
  $('#sim-next').disabled = !valid();
  if (!physical) closeCamera();
  // Kept with the draft as soon as it is valid, so a reload does not lose a scan.
  if (valid()) ctx.change(chosen());
}

function chosen() {
  return chosenType() === 'esim' ? { type: 'esim' } : { type: 'physical', iccid: normaliseIccid($('#iccid').value) };
}

function closeCamera() {
  stopScan($('#camera-video'));
  show($('#camera'), false);
}

async function openCamera() {
  clearErrors();
  show($('#camera'), true);
  try {
    await startScan($('#camera-video'), (digits) => {
      $('#iccid').value = digits;
      show($('#camera'), false);
      update();
      $('#sim-next').focus();
    });
  } catch {
    closeCamera();
    showErrorKey('sim.camera_failed');
  }
}

function next(ev) {
  if (ev) ev.preventDefault();
  if (!valid()) {
    $('#iccid').focus();
    return;
  }
  closeCamera();
  ctx.next(chosen());
}

/** Wires the step's controls once; `c` = {next(sim), change(sim), back()}. */
export function init(c) {
  ctx = c;
  for (const id of ['#sim-physical', '#sim-esim']) $(id).addEventListener('change', () => {
    update();
    if (chosenType() === 'physical') $('#iccid').focus();
  });
  $('#iccid').addEventListener('input', update);
  // A USB barcode scanner types the digits and presses Enter: move on when valid.
  $('#iccid').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    update();
    if (valid()) next();
  });
  $('#sim-form').addEventListener('submit', next);
  $('#sim-back').addEventListener('click', () => {
    closeCamera();
    ctx.back();
  });
  show($('#scan-camera'), cameraSupported());
  if (cameraSupported()) {
    $('#scan-camera').addEventListener('click', openCamera);
    $('#camera-stop').addEventListener('click', () => {
      closeCamera();
      $('#iccid').focus();
    });
  } else {
    // Not merely hidden: without BarcodeDetector there is no camera button at all.
    $('#scan-camera').remove();
    $('#camera').remove();
  }
}

/** Shows the step for `product` with the draft's `sim` (or defaults). */
export function enter(product, sim) {
  const physicalOk = product.physical !== false;
  const esimOk = product.esim === true;
  show($('#sim-physical-choice'), physicalOk);
  show($('#sim-esim-choice'), esimOk);
  $('#sim-physical').disabled = !physicalOk;
  $('#sim-esim').disabled = !esimOk;
  const type = sim && sim.type === 'esim' && esimOk ? 'esim' : physicalOk ? 'physical' : 'esim';
  $('#sim-physical').checked = type === 'physical';
  $('#sim-esim').checked = type === 'esim';
  $('#iccid').value = (sim && sim.iccid) || '';
  update();
}

/** Focuses where the clerk acts first: the ICCID field, so a USB scanner can type. */
export function focus() {
  if (chosenType() === 'physical') $('#iccid').focus();
  else $('#sim-esim').focus();
}

/** Stops the camera (the step was left). */
export function leave() {
  if ($('#camera')) closeCamera();
}
