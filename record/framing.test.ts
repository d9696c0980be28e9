import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { MAX_CIPHERTEXT_LENGTH, MAX_PLAINTEXT_LENGTH, type ReadResult, RecordReader, type TlsRecord } from './framing.js';
import { counting, plaintextRecord } from './testing/support.js';

function readAll(reader: RecordReader): ReadResult[] {
  const out: ReadResult[] = [];
  for (let r = reader.next(); r !== undefined; r = reader.next()) {
    out.push(r);
    if (!r.ok) break;
  }
  return out;
}

function records(results: ReadResult[]): TlsRecord[] {
  return results.map((r) => {
    if (!r.ok) throw new Error(`unexpected error ${r.error.alert}: ${r.error.message}`);
    return r.record;
  });
}

function errorOf(result: ReadResult | undefined) {
  if (result === undefined || result.ok) throw new Error(`expected an error, got ${result === undefined ? 'undefined' : 'a record'}`);
  return result.error;
}

const stream = [
  plaintextRecord(22, counting(40), 0x0301),
  plaintextRecord(20, Uint8Array.of(1)),
  plaintextRecord(23, new Uint8Array(0)),
  plaintextRecord(21, Uint8Array.of(2, 40)),
  plaintextRecord(23, counting(300, 7)),
];

describe('RecordReader', () => {
  it('yields the same records when fed one byte at a time', () => {
    const reader = new RecordReader();
    const got: TlsRecord[] = [];
    for (const byte of concat(...stream)) {
      reader.push(Uint8Array.of(byte));
      got.push(...records(readAll(reader)));
    }
    expect(got.map((r) => concat(r.header, r.fragment))).toEqual(stream);
    expect(got.map((r) => r.contentType)).toEqual([22, 20, 23, 21, 23]);
    expect(got.map((r) => r.legacyVersion)).toEqual([0x0301, 0x0303, 0x0303, 0x0303, 0x0303]);
    expect(got[4]?.fragment).toEqual(counting(300, 7));
    expect(reader.buffered).toBe(0);
  });

  it('yields every record of a single chunk holding many records', () => {
    const reader = new RecordReader();
    reader.push(concat(...stream, ...stream));
    const got = records(readAll(reader));
    expect(got.map((r) => concat(r.header, r.fragment))).toEqual([...stream, ...stream]);
  });

  it('waits for the rest of a record and keeps the bytes of the next one', () => {
    const reader = new RecordReader();
    const all = concat(...stream);
    reader.push(all.subarray(0, 30));
    expect(reader.next()).toBeUndefined();
    reader.push(all.subarray(30, 50));
    expect(records(readAll(reader))).toHaveLength(1);
    expect(reader.buffered).toBe(5); // 45 bytes taken, 5 of the 6-byte ChangeCipherSpec record left
    reader.push(all.subarray(50));
    expect(records(readAll(reader))).toHaveLength(4);
  });

  it('copies pushed bytes so the caller can reuse its buffer', () => {
    const reader = new RecordReader();
    const chunk = plaintextRecord(22, counting(10));
    reader.push(chunk.subarray(0, 8));
    chunk.fill(0xee);
    reader.push(plaintextRecord(22, counting(10)).subarray(8));
    const [rec] = records(readAll(reader));
    expect(rec?.fragment).toEqual(counting(10));
  });

  it('keeps bytes handed over as owned without copying: a record within the chunk is a view of it', () => {
    const chunk = concat(plaintextRecord(22, counting(10)), plaintextRecord(23, counting(4)));
    const reader = new RecordReader();
    reader.push(chunk, true);
    const first = reader.next();
    expect(first?.ok && first.record.fragment.buffer).toBe(chunk.buffer);
    expect(first?.ok && first.record.fragment).toEqual(counting(10));
    const copied = new RecordReader();
    copied.push(chunk);
    const again = copied.next();
    expect(again?.ok && again.record.fragment.buffer).not.toBe(chunk.buffer);
  });

  it('accepts any legacy_record_version of the form 0x03XX', () => {
    const reader = new RecordReader();
    reader.push(concat(plaintextRecord(22, counting(4), 0x0300), plaintextRecord(22, counting(4), 0x03ff)));
    expect(records(readAll(reader)).map((r) => r.legacyVersion)).toEqual([0x0300, 0x03ff]);
  });

  it('rejects a record whose legacy_record_version is not 0x03XX with protocol_version', () => {
    const reader = new RecordReader();
    reader.push(plaintextRecord(22, counting(4), 0x0201));
    expect(errorOf(reader.next()).alert).toBe('protocol_version');
  });

  it('rejects an unknown content type with unexpected_message', () => {
    for (const type of [0, 19, 24, 255]) {
      const reader = new RecordReader();
      reader.push(plaintextRecord(type, counting(3)));
      const error = errorOf(reader.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('UnknownContentType');
    }
  });

  it('rejects a record longer than 2^14 + 256 with record_overflow as soon as its header arrives', () => {
    const reader = new RecordReader();
    reader.push(Uint8Array.of(23, 3, 3, (MAX_CIPHERTEXT_LENGTH + 1) >> 8, (MAX_CIPHERTEXT_LENGTH + 1) & 0xff));
    const error = errorOf(reader.next());
    expect(error.alert).toBe('record_overflow');
  });

  it('accepts a record of exactly 2^14 + 256 bytes', () => {
    const reader = new RecordReader();
    reader.push(plaintextRecord(23, counting(MAX_CIPHERTEXT_LENGTH)));
    expect(records(readAll(reader))[0]?.fragment.length).toBe(MAX_CIPHERTEXT_LENGTH);
  });

  it('applies a per-type limit such as 2^14 for plaintext records', () => {
    const reader = new RecordReader({ maxFragmentLength: (type) => (type === 23 ? MAX_CIPHERTEXT_LENGTH : MAX_PLAINTEXT_LENGTH) });
    reader.push(plaintextRecord(22, counting(MAX_PLAINTEXT_LENGTH)));
    expect(records(readAll(reader))[0]?.fragment.length).toBe(MAX_PLAINTEXT_LENGTH);
    reader.push(Uint8Array.of(22, 3, 3, (MAX_PLAINTEXT_LENGTH + 1) >> 8, (MAX_PLAINTEXT_LENGTH + 1) & 0xff));
    expect(errorOf(reader.next()).alert).toBe('record_overflow');
  });

  it('rejects zero-length handshake and alert records with unexpected_message', () => {
    for (const type of [21, 22]) {
      const reader = new RecordReader();
      reader.push(plaintextRecord(type, new Uint8Array(0)));
      const error = errorOf(reader.next());
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('EmptyFragment');
    }
  });

  it('accepts a zero-length application_data record', () => {
    const reader = new RecordReader();
    reader.push(plaintextRecord(23, new Uint8Array(0)));
    expect(records(readAll(reader))[0]?.fragment.length).toBe(0);
  });

  it('stays dead after an error and returns the same error for every later call', () => {
    const reader = new RecordReader();
    reader.push(plaintextRecord(24, counting(3)));
    const first = errorOf(reader.next());
    reader.push(plaintextRecord(22, counting(3)));
    expect(errorOf(reader.next())).toBe(first);
    expect(errorOf(reader.next())).toBe(first);
  });
});
