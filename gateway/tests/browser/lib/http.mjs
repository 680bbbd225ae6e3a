// Node-side HTTP(S) for the tests' own calls (operator API, the reader's control API):
// node:https with the sandbox CA given explicitly, so no call depends on global trust.
import http from 'node:http';
import https from 'node:https';

/// One request; resolves to {status, headers, text, json} (json null unless JSON).
export function request(method, url, { ca, headers = {}, body } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h = { accept: 'application/json', ...headers };
  if (payload !== undefined) {
    h['content-type'] ??= 'application/json';
    h['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers: h, ca, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/// The status of `GET url` (trusting `ca`).
export async function getStatus(url, ca) {
  return (await request('GET', url, { ca })).status;
}
