/** Byte helpers shared by every layer (the bottom one, so no layer imports upwards for them). */

/**
 * Bytes given as one array or as consecutive parts (the records of one burst,
 * a batch of writes), in order: the data path hands them on without joining
 * them into a new array.
 */
export type ByteParts = Uint8Array | readonly Uint8Array[];

/** The total number of bytes of `data`. */
export function partsLength(data: ByteParts): number {
  if (data instanceof Uint8Array) return data.length;
  let n = 0;
  for (const p of data) n += p.length;
  return n;
}

/** The parts of `data` (one for a single array). */
export function partsOf(data: ByteParts): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

/** Concatenate byte arrays into one new array. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Constant-time equality: the running time depends only on the lengths,
 * never on where the first difference is.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Equality of public bytes (cookies, randoms, identities); secrets are compared with constantTimeEqual. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A Buffer over the same bytes (no copy), for node APIs that want one: a Buffer already is one. */
export function bufferOf(b: Uint8Array): Buffer {
  return b instanceof Buffer ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A plain Uint8Array over a Buffer's bytes (no copy): Buffer's slice() would not copy, Uint8Array's does. */
export function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Lowercase hex; one flat string (it is often kept as a Map key, e.g. a ticket's identity). */
export function toHex(b: Uint8Array): string {
  return bufferOf(b).toString('hex');
}

/**
 * The bytes as a one-byte-per-character (latin1) string: equal bytes give equal
 * strings, so it serves as a compact Map key, and ASCII reads as itself.
 */
export function bytesKey(b: Uint8Array): string {
  return bufferOf(b).toString('latin1');
}

/** Parse hex; whitespace is ignored so RFC 8448 dumps can be pasted as they are. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError(`fromHex: not an even-length hex string`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
