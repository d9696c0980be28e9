/**
 * Every secret a connection holds, for tests that scan traces and inspector
 * output for them: traffic and stage secrets, PSKs, (EC)DHE private keys,
 * and the fixtures' signing keys.
 */
import { createPrivateKey } from 'node:crypto';
import { toHex } from '../../crypto/bytes.js';
import type { AnyConnection } from '../recorder.js';

const SECRET_KEY = /secret|psk|private/i;

/** Byte strings of at least 16 bytes found under secret-sounding names anywhere in `root`. */
export function collectSecrets(root: unknown, into = new Map<string, string>()): Map<string, string> {
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string, secretPath: boolean) => {
    if (v instanceof Uint8Array) {
      if (secretPath && v.length >= 16) into.set(toHex(v), path);
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`, secretPath);
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, secretPath || SECRET_KEY.test(k));
  };
  walk(root, '', false);
  return into;
}

/** The secrets of a connection's context right now. */
export function connectionSecrets(conn: AnyConnection, into?: Map<string, string>): Map<string, string> {
  return collectSecrets(conn.context, into);
}

/** A PEM private key as the byte strings that could leak: PKCS#8 DER and the raw private scalar. */
export function privateKeyForms(pem: string, into = new Map<string, string>()): Map<string, string> {
  const key = createPrivateKey(pem);
  into.set(toHex(new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }))), 'pkcs8');
  const d = key.export({ format: 'jwk' }).d;
  if (d) into.set(Buffer.from(d, 'base64url').toString('hex'), 'jwk.d');
  return into;
}

/** The forms in which a secret could show up in text: hex and base64 (standard and url-safe). */
export function textForms(hex: string): string[] {
  const b = Buffer.from(hex, 'hex');
  return [hex, hex.toUpperCase(), b.toString('base64').replace(/=+$/, ''), b.toString('base64url')];
}
