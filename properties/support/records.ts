/** Small helpers to look into (and rebuild) the record stream between the two engines. */
import { concat } from '../../crypto/bytes.js';
import { recordHeader } from '../../record/framing.js';
import { decodeHandshake, encodeHandshake } from '../../wire/handshake.js';
import type { HandshakeMessage, Unencoded } from '../../wire/types.js';

export interface RawRecord {
  type: number;
  version: number;
  body: Uint8Array;
}

/** Split a chunk of whole records; a trailing partial record is returned as `rest`. */
export function splitRecords(bytes: Uint8Array): { records: RawRecord[]; rest: Uint8Array } {
  const records: RawRecord[] = [];
  let i = 0;
  while (i + 5 <= bytes.length) {
    const len = ((bytes[i + 3] as number) << 8) | (bytes[i + 4] as number);
    if (i + 5 + len > bytes.length) break;
    records.push({
      type: bytes[i] as number,
      version: ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number),
      body: bytes.slice(i + 5, i + 5 + len),
    });
    i += 5 + len;
  }
  return { records, rest: bytes.slice(i) };
}

export function joinRecords(records: readonly RawRecord[]): Uint8Array {
  return concat(...records.map((r) => concat(recordHeader(r.type, r.version, r.body.length), r.body)));
}

/** The plaintext handshake messages of a chunk (records of type 22 whose body is one whole message). */
export function plaintextMessages(bytes: Uint8Array): HandshakeMessage[] {
  const out: HandshakeMessage[] = [];
  for (const r of splitRecords(bytes).records) {
    if (r.type !== 22) continue;
    const d = decodeHandshake(r.body);
    if (d.ok) out.push(d.value);
  }
  return out;
}

/**
 * Rewrite the plaintext handshake message of type `type` in a chunk (the
 * other records are kept byte for byte). Returns undefined when the chunk
 * holds no such message.
 */
export function rewritePlaintext<M extends HandshakeMessage>(
  bytes: Uint8Array,
  type: M['type'],
  fn: (m: Unencoded<M>) => Unencoded<M>,
): Uint8Array | undefined {
  const { records, rest } = splitRecords(bytes);
  let changed = false;
  const out = records.map((r) => {
    if (r.type !== 22 || changed) return r;
    const d = decodeHandshake(r.body);
    if (!d.ok || d.value.type !== type) return r;
    const { raw: _raw, ...body } = d.value as M;
    changed = true;
    const encoded = encodeHandshake(fn(body as unknown as Unencoded<M>) as unknown as Unencoded<HandshakeMessage>);
    return { ...r, body: encoded.raw };
  });
  return changed ? concat(joinRecords(out), rest) : undefined;
}

/** Flip one bit of a copy. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  const i = Math.floor(bit / 8) % out.length;
  out[i] = (out[i] as number) ^ (1 << (bit % 8));
  return out;
}

/** Where a byte offset of a chunk falls: which record, and header or body. */
export function locate(bytes: Uint8Array, offset: number): { record: RawRecord | undefined; inHeader: number | undefined } {
  let i = 0;
  while (i + 5 <= bytes.length) {
    const len = ((bytes[i + 3] as number) << 8) | (bytes[i + 4] as number);
    const end = i + 5 + len;
    if (offset < end) {
      const record = {
        type: bytes[i] as number,
        version: ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number),
        body: bytes.slice(i + 5, end),
      };
      return { record, inHeader: offset < i + 5 ? offset - i : undefined };
    }
    i = end;
  }
  return { record: undefined, inHeader: undefined };
}
