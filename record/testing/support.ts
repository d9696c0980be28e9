/** Small helpers shared by the record-layer tests and properties (not part of the build). */
import { SUPPORTED_SUITES, type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { recordHeader } from '../framing.js';
import type { RecordItem, RecordLayer } from '../layer.js';
import type { TrafficKeys } from '../protection.js';

export const ALL_SUITES: readonly SuiteInfo[] = SUPPORTED_SUITES.map((code) => {
  const s = suiteInfo(code);
  if (!s) throw new Error(`no SuiteInfo for 0x${code.toString(16)}`);
  return s;
});

export function suiteNamed(name: SuiteInfo['name']): SuiteInfo {
  const s = ALL_SUITES.find((x) => x.name === name);
  if (!s) throw new Error(`no suite ${name}`);
  return s;
}

/** Fresh random traffic keys of the right sizes for a suite. */
export function randomKeys(suite: SuiteInfo): TrafficKeys {
  return { key: crypto.getRandomValues(new Uint8Array(suite.keyLen)), iv: crypto.getRandomValues(new Uint8Array(suite.ivLen)) };
}

/** A plaintext record: header then fragment. */
export function plaintextRecord(contentType: number, fragment: Uint8Array, legacyVersion = 0x0303): Uint8Array {
  const out = new Uint8Array(5 + fragment.length);
  out.set(recordHeader(contentType, legacyVersion, fragment.length), 0);
  out.set(fragment, 5);
  return out;
}

/** A handshake message: type, u24 length, body. */
export function handshakeMessage(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = (body.length >> 16) & 0xff;
  out[2] = (body.length >> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}

/** Bytes 0, 1, 2, ... (mod 256) of the given length, so misplaced bytes are visible. */
export function counting(length: number, start = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff;
  return out;
}

/** Pull items until the layer needs more bytes or reports an error (the error item included). */
export function drain(layer: RecordLayer): RecordItem[] {
  const items: RecordItem[] = [];
  for (;;) {
    const item = layer.next();
    if (item === undefined) return items;
    items.push(item);
    if (item.kind === 'error') return items;
  }
}

/** Split bytes at the given cut points (any order, duplicates and out-of-range values ignored). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** What a function throws (undefined when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
