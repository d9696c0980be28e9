/** Input checks shared by the crypto core (internal; not re-exported). */
import type { HashName } from './suites.js';

export function checkHash(hash: unknown): asserts hash is HashName {
  if (hash !== 'sha256' && hash !== 'sha384') throw new TypeError(`hash must be 'sha256' or 'sha384', got ${String(hash)}`);
}

export function checkBytes(name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

export function checkLength(name: string, v: Uint8Array, expected: number): void {
  if (v.length !== expected) throw new RangeError(`${name} must be ${expected} bytes, got ${v.length}`);
}

/** aeadSealInto's room check: `length` bytes sealed (plus the 16-byte tag) must fit in `out` at `offset`. */
export function checkSealRoom(alg: string, length: number, out: Uint8Array, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length + 16 > out.length) {
    throw new RangeError(`${alg}: ${length + 16} sealed bytes do not fit at offset ${offset} of ${out.length}`);
  }
}
