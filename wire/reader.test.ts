import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../crypto/bytes.js';
import { TlsError } from './alerts.js';
import { decodeWith, Reader, WireDecodeError } from './reader.js';
import { Writer } from './writer.js';

function failureOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireDecodeError) return e.failure;
    throw e;
  }
  throw new Error('expected a WireDecodeError');
}

describe('Reader', () => {
  it('reads big-endian integers of 1, 2, 3 and 4 bytes', () => {
    const r = new Reader(fromHex('01 0203 040506 fffffffe'));
    expect(r.u8('a')).toBe(1);
    expect(r.u16('b')).toBe(0x0203);
    expect(r.u24('c')).toBe(0x040506);
    expect(r.u32('d')).toBe(0xfffffffe);
    expect(r.isEmpty()).toBe(true);
  });

  it('reports a read past the end as decode_error naming the field', () => {
    const f = failureOf(() => new Reader(fromHex('01')).u16('thing.count'));
    expect(f).toMatchObject({ alert: 'decode_error', field: 'thing.count' });
    expect(f.message).toContain('thing.count');
  });

  it('reads a length-prefixed vector through a sub-reader and moves past it', () => {
    const r = new Reader(fromHex('0003 aabbcc 01'));
    const sub = r.vec16('v', 0, 10);
    expect(toHex(sub.rest())).toBe('aabbcc');
    expect(r.u8('after')).toBe(1);
  });

  it('keeps a sub-reader inside its vector', () => {
    const r = new Reader(fromHex('02 aabb cc'));
    const sub = r.vec8('v', 0, 10);
    sub.u16('inner');
    expect(failureOf(() => sub.u8('inner.more'))).toMatchObject({ alert: 'decode_error', field: 'inner.more' });
  });

  it('rejects a vector shorter than its minimum or longer than its maximum', () => {
    expect(failureOf(() => new Reader(fromHex('01 aa')).vec8('v', 2, 4))).toMatchObject({ alert: 'decode_error', field: 'v' });
    expect(failureOf(() => new Reader(fromHex('05 0102030405')).vec8('v', 2, 4))).toMatchObject({ alert: 'decode_error', field: 'v' });
  });

  it('rejects a vector whose length runs past the end of the input', () => {
    expect(failureOf(() => new Reader(fromHex('000004 aabbcc')).vec24('v', 0, 100))).toMatchObject({
      alert: 'decode_error',
      field: 'v',
    });
  });

  it('uses a 1-byte length for a uint16 list whose maximum is below 256 and a 2-byte one otherwise', () => {
    expect(new Reader(fromHex('04 0304 0303')).u16List('short', 2, 254)).toEqual([0x0304, 0x0303]);
    expect(new Reader(fromHex('0004 0304 0303')).u16List('long', 2, 0xfffe)).toEqual([0x0304, 0x0303]);
  });

  it('rejects a uint16 list of odd length', () => {
    expect(failureOf(() => new Reader(fromHex('0003 001d00')).u16List('groups', 2, 0xffff))).toMatchObject({
      alert: 'decode_error',
      field: 'groups',
    });
  });

  it('reports trailing bytes as decode_error', () => {
    const r = new Reader(fromHex('0102'));
    r.u8('a');
    expect(failureOf(() => r.expectEnd('msg'))).toMatchObject({ alert: 'decode_error', field: 'msg' });
  });

  it('returns views of what it reads; decodeWith reads a copy, so later changes to the input do not reach decoded values', () => {
    const input = fromHex('aabb');
    expect(new Reader(input).bytes(2, 'x').buffer).toBe(input.buffer);
    const decoded = decodeWith(input, 'top', (r) => r.bytes(2, 'x'));
    input[0] = 0;
    expect(decoded.ok && toHex(decoded.value)).toBe('aabb');
  });
});

describe('decodeWith', () => {
  it('turns a decode error into a typed failure', () => {
    expect(decodeWith(fromHex('01'), 'top', (r) => r.u16('top.value'))).toMatchObject({
      ok: false,
      error: { alert: 'decode_error', field: 'top.value' },
    });
  });

  it('requires the whole input to be consumed', () => {
    expect(decodeWith(fromHex('0102'), 'top', (r) => r.u8('top.value'))).toMatchObject({
      ok: false,
      error: { alert: 'decode_error', field: 'top' },
    });
  });

  it('returns the value when the input is consumed exactly', () => {
    expect(decodeWith(fromHex('0102'), 'top', (r) => r.u16('top.value'))).toEqual({ ok: true, value: 0x0102 });
  });

  it('does not swallow errors that are not decode failures', () => {
    expect(() =>
      decodeWith(fromHex('00'), 'top', () => {
        throw new RangeError('bug');
      }),
    ).toThrow(RangeError);
  });
});

describe('Writer', () => {
  it('writes big-endian integers of 1, 2, 3 and 4 bytes', () => {
    const w = new Writer().u8(1, 'a').u16(0x0203, 'b').u24(0x040506, 'c').u32(0xfffffffe, 'd');
    expect(toHex(w.finish())).toBe('01020304050' + '6fffffffe');
  });

  it('fills in vector length prefixes of 1, 2 and 3 bytes, nested', () => {
    const w = new Writer().vec16('outer', 0, 100, (o) => {
      o.vec8('a', 0, 10, (a) => a.u16(0xaabb, 'x'));
      o.vec24('b', 0, 10, (b) => b.u8(0xcc, 'y'));
    });
    expect(toHex(w.finish())).toBe('0007' + '02aabb' + '000001cc');
  });

  it('grows past its initial buffer', () => {
    const big = new Uint8Array(5000).fill(7);
    const out = new Writer().opaque16(big, 'big', 0, 0xffff).finish();
    expect(out.length).toBe(5002);
    expect(out[0]).toBe(0x13);
    expect(out[1]).toBe(0x88);
    expect(out[5001]).toBe(7);
  });

  it('refuses a vector outside its bounds with internal_error', () => {
    const err = (() => {
      try {
        new Writer().opaque8(new Uint8Array(0), 'ticket_nonce_like', 1, 255);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).alert).toBe('internal_error');
    expect((err as TlsError).message).toContain('ticket_nonce_like');
  });

  it('refuses a vector longer than its length prefix can express', () => {
    expect(() => new Writer().opaque8(new Uint8Array(256), 'v', 0, 1000)).toThrow(TlsError);
  });

  it('refuses integers that do not fit their width', () => {
    expect(() => new Writer().u8(256, 'x')).toThrow(TlsError);
    expect(() => new Writer().u16(-1, 'x')).toThrow(TlsError);
    expect(() => new Writer().u24(0x1000000, 'x')).toThrow(TlsError);
    expect(() => new Writer().u32(2 ** 32, 'x')).toThrow(TlsError);
    expect(() => new Writer().u16(1.5, 'x')).toThrow(TlsError);
  });

  it('refuses a fixed-length field of the wrong length', () => {
    expect(() => new Writer().fixed(new Uint8Array(31), 32, 'random')).toThrow(/random/);
  });
});
