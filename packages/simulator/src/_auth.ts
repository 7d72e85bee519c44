import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type AuthResult = { ok: true; fingerprint: string } | { ok: false; message: string };

const fingerprints = new Map<string, string>();

/** A short, stable stand-in for a key in the ledger: never the key itself. */
export function keyFingerprint(key: string): string {
  let fp = fingerprints.get(key);
  if (fp === undefined) {
    fp = `key-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
    if (fingerprints.size > 1000) fingerprints.clear();
    fingerprints.set(key, fp);
  }
  return fp;
}

/** `Authorization: Bearer <key>`: only `expectedKey` when set, else any key starting with `sk-`. */
export function authenticate(req: IncomingMessage, expectedKey: string | undefined): AuthResult {
  const header = req.headers.authorization;
  if (!header) return { ok: false, message: 'missing Authorization header' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false, message: 'malformed Authorization header: expected "Bearer <API key>"' };
  const key = m[1]!;
  const valid = expectedKey === undefined ? key.startsWith('sk-') && key.length > 3 : key === expectedKey;
  // The message never repeats the key.
  if (!valid) return { ok: false, message: 'invalid API key' };
  return { ok: true, fingerprint: keyFingerprint(key) };
}
