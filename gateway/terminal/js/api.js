// The client of the gateway's page API (`/terminal/api/…`, docs/terminal.md). Cookies
// travel same-origin; every POST but `pair` carries the CSRF token of the session; a
// problem+json answer becomes a `Problem` with `code`, `detail` and `status`. A lost
// session (`terminal_not_paired`, `clerk_not_signed_in`) is reported to one handler,
// which moves the page back to pairing or sign-in.

import { backoff, setOffline, sleep } from './offline.js';

const BASE = '/terminal/api';
const RETRY_STATUSES = new Set([502, 503, 504]);
const AUTH_CODES = new Set(['terminal_not_paired', 'clerk_not_signed_in']);

let csrfToken = '';
let authLost = () => {};

/** A refusal or error answered by the gateway. */
export class Problem extends Error {
  constructor(status, code, detail, body = {}) {
    super(code);
    this.status = status;
    this.code = code;
    this.detail = detail;
    /** Extension members (`retry_after`, `limit`, `active`, `window`, `allowed`). */
    this.body = body;
    /** True once the session handler took care of it (callers just stop). */
    this.handled = false;
  }
}

/** The network failed (no answer, or the gateway's proxy said it could not reach it). */
export class NetworkLost extends Error {
  constructor(status = 0) {
    super('network_lost');
    this.status = status;
    this.code = 'network_lost';
  }
}

/** Remembers the CSRF token of the current session. */
export function setCsrf(token) {
  csrfToken = token || '';
}

/** Sets the handler called with `terminal_not_paired` or `clerk_not_signed_in`. */
export function onAuthLost(fn) {
  authLost = fn;
}

async function problemOf(res) {
  let body = {};
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's page): only the status is known.
  }
  const code = typeof body.code === 'string' ? body.code : `http_${res.status}`;
  const detail = typeof body.detail === 'string' ? body.detail : '';
  return new Problem(res.status, code, detail, body);
}

async function once(method, path, opts) {
  const headers = { Accept: 'application/json, application/problem+json', ...(opts.headers || {}) };
  if (method !== 'GET' && path !== '/pair') headers['X-CSRF-Token'] = csrfToken;
  let body;
  if (opts.bodyText !== undefined) body = opts.bodyText;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new NetworkLost();
  }
  if (RETRY_STATUSES.has(res.status)) {
    const p = await problemOf(res);
    // A gateway answer (problem+json) is kept so a non-retried call can say what it was.
    const lost = new NetworkLost(res.status);
    lost.problem = p;
    throw lost;
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** Fetches the session without any handler (used to renew the CSRF token). */
async function renewCsrf(signal) {
  const s = await once('GET', '/session', { signal });
  setCsrf(s && s.csrf_token);
  return s;
}

/**
 * Calls `method path`. Options: `body` (an object sent as JSON) or `bodyText` (the exact
 * JSON text: a retried sale must repeat its bytes), `headers`, `signal`, and `retry`:
 * when true, a lost network or a 502/503/504 shows the offline banner and the very same
 * request is sent again after 1 s, 2 s, 4 s, … at most 10 s, until it gets an answer.
 */
export async function call(method, path, opts = {}) {
  let csrfRenewed = false;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const out = await once(method, path, opts);
      setOffline(false);
      return out;
    } catch (e) {
      if (e instanceof NetworkLost) {
        if (!opts.retry) {
          setOffline(false);
          throw e;
        }
        setOffline(true);
        await sleep(backoff(attempt), opts.signal);
        continue;
      }
      if (!(e instanceof Problem)) throw e;
      setOffline(false);
      if (e.code === 'csrf_token_invalid' && !csrfRenewed && method !== 'GET') {
        // The token changed (a new device session): fetch it once and send again.
        csrfRenewed = true;
        try {
          await renewCsrf(opts.signal);
        } catch (renewError) {
          if (renewError instanceof Problem && AUTH_CODES.has(renewError.code)) {
            renewError.handled = true;
            authLost(renewError.code);
            throw renewError;
          }
          throw e;
        }
        continue;
      }
      if (e.status === 401 && AUTH_CODES.has(e.code)) {
        e.handled = true;
        authLost(e.code);
      }
      throw e;
    }
  }
}
