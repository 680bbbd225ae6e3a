// Starts `$SIMGW_BIN serve --sandbox` in a fresh data dir on an ephemeral port, waits until
// `sandbox.json` exists and `GET {base_url}/readyz` answers 200, and hands the tests its
// whereabouts through the environment (workers start after this and inherit it):
//
//   SIMGW_SANDBOX_FILE   the sandbox.json path
//   SIMGW_SERVER_SPKI    base64 SHA-256 of the gateway certificate's key (the browser's trust)
//   NODE_EXTRA_CA_CERTS  the sandbox CA, for Node-side HTTPS in the workers
//
// Every market tenant's store SZ-0042 is made open round the clock (time-of-day free tests).
//
// Returns the teardown: stops the gateway and removes the data dir (kept, with serve.log,
// when SIMGW_KEEP_DATA=1).
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { getStatus, request } from './lib/http.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/// How long the gateway may take to start (a debug build seeds thousands of SIMs).
const START_MS = 120_000;

export default async function globalSetup() {
  const bin = path.resolve(here, process.env.SIMGW_BIN || '../../../target/debug/simgw');
  if (!fs.existsSync(bin)) {
    throw new Error(`simgw binary not found at ${bin}: build it (cargo build -p gateway --bin simgw) or set SIMGW_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simgw-browser-'));
  const dataDir = path.join(dir, 'data');
  const logPath = path.join(dir, 'serve.log');
  const log = fs.openSync(logPath, 'w');
  const child = spawn(bin, ['serve', '--sandbox', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', log, log],
  });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const fail = (why) => {
    const tail = fs.readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n');
    if (exited === null) child.kill('SIGKILL');
    return new Error(`${why}\n--- ${logPath} (last lines) ---\n${tail}`);
  };

  const file = path.join(dataDir, 'sandbox.json');
  const deadline = Date.now() + START_MS;
  let sb = null;
  while (sb === null) {
    if (exited !== null) throw fail(`simgw serve --sandbox exited (${JSON.stringify(exited)}) before it was ready`);
    if (Date.now() > deadline) throw fail(`simgw serve --sandbox not ready within ${START_MS / 1000} s`);
    try {
      const candidate = JSON.parse(fs.readFileSync(file, 'utf8'));
      const ca = fs.readFileSync(candidate.ca_cert);
      if ((await getStatus(`${candidate.base_url}/readyz`, ca)) === 200) sb = candidate;
    } catch {
      // Not written yet, or not answering yet: poll again.
    }
    if (sb === null) await new Promise((r) => setTimeout(r, 100));
  }

  // The market stores open round the clock, so no sale hits the outside-hours risk rule
  // (its line would be `pending_verification`) whatever the time of day the suite runs.
  const ca = fs.readFileSync(sb.ca_cert);
  for (const [name, m] of Object.entries(sb.markets || {})) {
    const r = await request('PUT', `${sb.base_url}/v1/channels/stores/SZ-0042`, {
      ca,
      headers: { authorization: `Bearer ${m.api_key}` },
      body: { hours: { open: '00:00', close: '00:00', utc_offset: '+08:00' } },
    });
    if (r.status !== 200) throw fail(`store hours of the ${name} tenant: ${r.status} ${r.text}`);
  }

  process.env.SIMGW_SANDBOX_FILE = file;
  process.env.NODE_EXTRA_CA_CERTS = sb.ca_cert;
  process.env.SIMGW_SERVER_SPKI = await serverSpki(sb.base_url, fs.readFileSync(sb.ca_cert));
  process.env.SIMGW_BIN = bin;

  return async () => {
    if (exited === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    fs.closeSync(log);
    if (process.env.SIMGW_KEEP_DATA === '1') {
      console.log(`simgw data dir and serve.log kept in ${dir}`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/// The SPKI hash Chromium's --ignore-certificate-errors-spki-list takes, of the certificate
/// the gateway presents (verified against the sandbox CA first).
function serverSpki(baseUrl, ca) {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca, servername: hostname === '127.0.0.1' ? undefined : hostname }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      const spki = new X509Certificate(raw).publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(spki).digest('base64'));
    });
    socket.on('error', reject);
  });
}
