// Scanning the SIM card's barcode with the device camera, only where the browser has
// BarcodeDetector (elsewhere `#scan-camera` stays hidden and a USB scanner or the
// keyboard types the ICCID). The stream is stopped as soon as an ICCID is read.

import { iccidState, normaliseIccid } from './luhn.js';

const WANTED = ['code_128', 'code_39', 'code_93', 'codabar', 'ean_13', 'itf', 'qr_code', 'data_matrix', 'pdf417'];
const INTERVAL_MS = 250;

let stream = null;
let timer = null;

/** True where the camera can scan barcodes. */
export function cameraSupported() {
  return 'BarcodeDetector' in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

/** Stops the camera (safe to call when it is not running). */
export function stopScan(video) {
  if (timer) clearTimeout(timer);
  timer = null;
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  if (video) video.srcObject = null;
}

/**
 * Starts the camera into `video` and calls `onIccid(digits)` with the first barcode that
 * holds a valid ICCID. Rejects when the camera cannot be opened.
 */
export async function startScan(video, onIccid) {
  stopScan(video);
  let formats = WANTED;
  try {
    const supported = await window.BarcodeDetector.getSupportedFormats();
    formats = WANTED.filter((f) => supported.includes(f));
  } catch {
    // Older implementations lack getSupportedFormats: ask for the wanted ones.
  }
  const detector = new window.BarcodeDetector(formats.length ? { formats } : undefined);
  stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  await video.play();
  const tick = async () => {
    if (!stream) return;
    try {
      for (const code of await detector.detect(video)) {
        const digits = normaliseIccid(code.rawValue).replace(/[^0-9]/g, '');
        if (iccidState(digits) === 'ok') {
          stopScan(video);
          onIccid(digits);
          return;
        }
      }
    } catch {
      // A frame that could not be read; try the next one.
    }
    if (stream) timer = setTimeout(tick, INTERVAL_MS);
  };
  timer = setTimeout(tick, INTERVAL_MS);
}
