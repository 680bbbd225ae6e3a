// The client of the terminal's local ID card reader service (docs/terminal.md): the page
// calls it directly, the gateway never sees the card photo. What it answers is kept by
// the caller in memory only and is never logged.

/** A reader failure: `no_card`, `reader_unavailable` or `reader_error`. */
export class ReaderError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

const TIMEOUT_MS = 20000;

async function request(base, path, method) {
  if (!base) throw new ReaderError('reader_unavailable');
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  let res;
  try {
    res = await fetch(String(base).replace(/\/+$/, '') + path, {
      method,
      mode: 'cors',
      credentials: 'omit',
      cache: 'no-store',
      signal: ctl.signal,
    });
  } catch {
    throw new ReaderError('reader_unavailable');
  } finally {
    clearTimeout(timer);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON: judged by the status alone.
  }
  if (res.status === 404 && body && body.code === 'no_card') throw new ReaderError('no_card');
  if (!res.ok || !body || typeof body !== 'object') throw new ReaderError('reader_error');
  return body;
}

/** Reads the card on the reader: `{reader_serial, name, id_type, id_number, nationality, …}`. */
export async function readCard(base) {
  const c = await request(base, '/v1/card', 'GET');
  if (typeof c.id_number !== 'string' || typeof c.name !== 'string' || typeof c.reader_serial !== 'string') {
    throw new ReaderError('reader_error');
  }
  return c;
}

/** Runs the reader's face match against the card photo: `{transaction_id, score, liveness}`. */
export async function faceMatch(base) {
  const f = await request(base, '/v1/face-match', 'POST');
  if (typeof f.transaction_id !== 'string' || typeof f.score !== 'number' || typeof f.liveness !== 'boolean') {
    throw new ReaderError('reader_error');
  }
  return f;
}

/** The ID number masked but its last 4 characters. */
export function maskId(id) {
  const s = String(id || '');
  if (s.length <= 4) return '*'.repeat(s.length);
  return '*'.repeat(s.length - 4) + s.slice(-4);
}
