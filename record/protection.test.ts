import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { TlsError } from '../wire/alerts.js';
import { MAX_CIPHERTEXT_LENGTH, MAX_PLAINTEXT_LENGTH, recordHeader } from './framing.js';
import { MAX_SEQUENCE_NUMBER, RecordDeprotector, RecordProtector, recordNonce, type TrafficKeys, type Unprotected } from './protection.js';
import * as rfc from './testing/rfc8448.js';
import { ALL_SUITES, counting, randomKeys, suiteNamed, thrown } from './testing/support.js';

describe.each(PROVIDER_CASES)('record protection on the $name provider', ({ provider }) => {
  const aes128 = suiteNamed('TLS_AES_128_GCM_SHA256');

  function open(d: RecordDeprotector, record: Uint8Array): Unprotected {
    return d.unprotect(record.subarray(0, 5), record.subarray(5));
  }

  function opened(result: Unprotected) {
    if (!result.ok) throw new Error(`expected the record to open, got ${result.error.alert}: ${result.error.message}`);
    return result;
  }

  function failure(result: Unprotected): TlsError {
    if (result.ok) throw new Error('expected the record to fail');
    return result.error;
  }

  /** Seal an arbitrary TLSInnerPlaintext directly with the AEAD, bypassing RecordProtector's checks. */
  function sealRawInner(keys: TrafficKeys, inner: Uint8Array, seq = 0n): Uint8Array {
    const header = recordHeader(23, 0x0303, inner.length + 16);
    return concat(header, provider.aeadSeal('aes-128-gcm', keys.key, recordNonce(keys.iv, seq), header, inner));
  }

  describe('recordNonce', () => {
    it('is the IV itself at sequence number 0', () => {
      const iv = counting(12, 0x50);
      expect(recordNonce(iv, 0n)).toEqual(iv);
    });

    it('XORs the big-endian sequence number into the last 8 bytes of the IV', () => {
      const iv = counting(12, 0x50);
      const seq = 0x0102030405060708n;
      const nonce = recordNonce(iv, seq);
      const ivTail = BigInt(`0x${Buffer.from(iv.subarray(4)).toString('hex')}`);
      expect(nonce.subarray(0, 4)).toEqual(iv.subarray(0, 4));
      expect(BigInt(`0x${Buffer.from(nonce.subarray(4)).toString('hex')}`)).toBe(ivTail ^ seq);
    });

    it('XORs any sequence number up to 2^64 - 1 into the IV, both 32-bit halves', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.bigInt({ min: 0n, max: MAX_SEQUENCE_NUMBER }), (iv, seq) => {
          const expected = BigInt(`0x${Buffer.from(iv.subarray(4)).toString('hex')}`) ^ seq;
          const nonce = recordNonce(iv, seq);
          expect(nonce.subarray(0, 4)).toEqual(iv.subarray(0, 4));
          expect(BigInt(`0x${Buffer.from(nonce.subarray(4)).toString('hex')}`)).toBe(expected);
        }),
        { numRuns: 300 },
      );
    });

    it('refuses a sequence number beyond 2^64 - 1', () => {
      expect(() => recordNonce(new Uint8Array(12), MAX_SEQUENCE_NUMBER + 1n)).toThrow(RangeError);
    });
  });

  describe('RecordDeprotector with RFC 8448 §3 records', () => {
    it('opens the server handshake flight into EncryptedExtensions, Certificate, CertificateVerify and Finished', () => {
      const d = new RecordDeprotector(aes128, rfc.serverHandshakeKeys, provider);
      const r = opened(open(d, rfc.serverHandshakeRecord));
      expect(r.contentType).toBe(22);
      expect(r.paddingLength).toBe(0);
      expect(r.content).toEqual(concat(rfc.encryptedExtensions, rfc.certificate, rfc.certificateVerify, rfc.serverFinished));
      expect(d.sequence).toBe(1n);
    });

    it('seals the server handshake flight back into the exact RFC bytes', () => {
      const p = new RecordProtector(aes128, rfc.serverHandshakeKeys, provider);
      const content = concat(rfc.encryptedExtensions, rfc.certificate, rfc.certificateVerify, rfc.serverFinished);
      expect(p.protect(22, content)).toEqual(rfc.serverHandshakeRecord);
    });

    it('opens the client Finished record under the client handshake keys', () => {
      const r = opened(open(new RecordDeprotector(aes128, rfc.clientHandshakeKeys, provider), rfc.clientFinishedRecord));
      expect(r.contentType).toBe(22);
      expect(r.content.length).toBe(36);
      expect(r.content.subarray(0, 4)).toEqual(Uint8Array.of(20, 0, 0, 32));
    });

    it('opens the client application data record at sequence number 0', () => {
      const r = opened(open(new RecordDeprotector(aes128, rfc.clientApplicationKeys, provider), rfc.clientApplicationDataRecord));
      expect(r.contentType).toBe(23);
      expect(r.content).toEqual(rfc.applicationPayload);
    });

    it('opens the server application data record only after the NewSessionTicket record used sequence number 0', () => {
      const fresh = new RecordDeprotector(aes128, rfc.serverApplicationKeys, provider);
      expect(failure(open(fresh, rfc.serverApplicationDataRecord)).alert).toBe('bad_record_mac');

      const d = new RecordDeprotector(aes128, rfc.serverApplicationKeys, provider);
      const ticket = opened(open(d, rfc.serverNewSessionTicketRecord));
      expect(ticket.contentType).toBe(22);
      expect(ticket.content[0]).toBe(4); // new_session_ticket
      const app = opened(open(d, rfc.serverApplicationDataRecord));
      expect(app.contentType).toBe(23);
      expect(app.content).toEqual(rfc.applicationPayload);
    });

    it('fails the client record under the server keys with bad_record_mac', () => {
      const d = new RecordDeprotector(aes128, rfc.serverApplicationKeys, provider);
      expect(failure(open(d, rfc.clientApplicationDataRecord)).alert).toBe('bad_record_mac');
    });
  });

  describe('RecordProtector and RecordDeprotector', () => {
    it('round-trips records for every suite and advances both sequence numbers', () => {
      for (const suite of ALL_SUITES) {
        const keys = randomKeys(suite);
        const p = new RecordProtector(suite, keys, provider);
        const d = new RecordDeprotector(suite, keys, provider);
        for (let i = 0; i < 3; i++) {
          const record = p.protect(23, counting(100 + i, i));
          expect(record.subarray(0, 5)).toEqual(Uint8Array.of(23, 3, 3, 0, 100 + i + 1 + 16));
          const r = opened(open(d, record));
          expect(r.content).toEqual(counting(100 + i, i));
        }
        expect(p.sequence).toBe(3n);
        expect(d.sequence).toBe(3n);
      }
    });

    it('seals into a given array at an offset exactly the record protect returns, and refuses too little room', () => {
      for (const suite of ALL_SUITES) {
        const keys = randomKeys(suite);
        const a = new RecordProtector(suite, keys, provider);
        const b = new RecordProtector(suite, keys, provider);
        const whole = a.protect(22, counting(300, 7), 5);
        const length = b.protectedLength(300, 5);
        expect(length).toBe(whole.length);
        const out = new Uint8Array(3 + length + 2).fill(0xee);
        expect(b.protectInto(out, 3, 22, counting(300, 7), 5)).toBe(3 + length);
        expect(out.subarray(3, 3 + length)).toEqual(whole);
        expect([...out.subarray(0, 3), ...out.subarray(3 + length)]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee]);
        expect(() => b.protectInto(new Uint8Array(length - 1), 0, 22, counting(300), 5)).toThrow(RangeError);
        expect(() => b.protectInto(new Uint8Array(length), 1, 22, counting(300), 5)).toThrow(RangeError);
        expect(b.sequence).toBe(1n); // the refused record consumed no number
      }
    });

    it('uses the sequence number in the nonce, so records open only in order', () => {
      const keys = randomKeys(aes128);
      const p = new RecordProtector(aes128, keys, provider);
      const first = p.protect(23, counting(20, 1));
      const second = p.protect(23, counting(20, 2));
      const d = new RecordDeprotector(aes128, keys, provider);
      expect(failure(open(d, second)).alert).toBe('bad_record_mac');
      expect(d.sequence).toBe(0n); // a failed record does not consume a number
      expect(opened(open(d, first)).content).toEqual(counting(20, 1));
      expect(opened(open(d, second)).content).toEqual(counting(20, 2));
    });

    it('strips the zero padding and reports its length', () => {
      const keys = randomKeys(aes128);
      const record = new RecordProtector(aes128, keys, provider).protect(22, counting(10), 100);
      expect(record.length).toBe(5 + 10 + 1 + 100 + 16);
      const r = opened(open(new RecordDeprotector(aes128, keys, provider), record));
      expect(r.contentType).toBe(22);
      expect(r.content).toEqual(counting(10));
      expect(r.paddingLength).toBe(100);
    });

    it('keeps zero bytes at the end of the content that come before the content type', () => {
      const keys = randomKeys(aes128);
      const content = Uint8Array.of(1, 2, 0, 0, 0);
      const r = opened(
        open(new RecordDeprotector(aes128, keys, provider), new RecordProtector(aes128, keys, provider).protect(23, content, 7)),
      );
      expect(r.content).toEqual(content);
      expect(r.paddingLength).toBe(7);
    });

    it('rejects a record with a flipped tag bit with bad_record_mac', () => {
      const keys = randomKeys(aes128);
      const record = new RecordProtector(aes128, keys, provider).protect(23, counting(30));
      record[record.length - 1] = (record[record.length - 1] as number) ^ 0x01;
      expect(failure(open(new RecordDeprotector(aes128, keys, provider), record)).alert).toBe('bad_record_mac');
    });

    it('authenticates the record header as additional data', () => {
      const keys = randomKeys(aes128);
      const record = new RecordProtector(aes128, keys, provider).protect(23, counting(30));
      record[2] = 0x01; // legacy_record_version 0x0301 instead of 0x0303
      expect(failure(open(new RecordDeprotector(aes128, keys, provider), record)).alert).toBe('bad_record_mac');
    });

    it('rejects a record too short to hold a tag with bad_record_mac', () => {
      const keys = randomKeys(aes128);
      const header = recordHeader(23, 0x0303, 5);
      expect(failure(new RecordDeprotector(aes128, keys, provider).unprotect(header, counting(5))).alert).toBe('bad_record_mac');
    });

    it('rejects an inner plaintext of only zeros with unexpected_message', () => {
      const keys = randomKeys(aes128);
      const error = failure(open(new RecordDeprotector(aes128, keys, provider), sealRawInner(keys, new Uint8Array(20))));
      expect(error.alert).toBe('unexpected_message');
      expect(error.reason).toBe('NoInnerContentType');
    });

    it('rejects more than 2^14 bytes of decrypted content with record_overflow', () => {
      const keys = randomKeys(aes128);
      const inner = concat(counting(MAX_PLAINTEXT_LENGTH + 1), Uint8Array.of(23));
      expect(failure(open(new RecordDeprotector(aes128, keys, provider), sealRawInner(keys, inner))).alert).toBe('record_overflow');
    });

    it('counts padding toward the 2^14 limit of the inner plaintext', () => {
      const keys = randomKeys(aes128);
      const inner = concat(counting(MAX_PLAINTEXT_LENGTH), Uint8Array.of(23, 0));
      expect(failure(open(new RecordDeprotector(aes128, keys, provider), sealRawInner(keys, inner))).alert).toBe('record_overflow');
      const atLimit = concat(counting(MAX_PLAINTEXT_LENGTH), Uint8Array.of(23));
      expect(opened(open(new RecordDeprotector(aes128, keys, provider), sealRawInner(keys, atLimit))).content.length).toBe(
        MAX_PLAINTEXT_LENGTH,
      );
    });

    it('rejects an encrypted_record longer than 2^14 + 256 with record_overflow', () => {
      const keys = randomKeys(aes128);
      const header = recordHeader(23, 0x0303, MAX_CIPHERTEXT_LENGTH + 1);
      const error = failure(new RecordDeprotector(aes128, keys, provider).unprotect(header, new Uint8Array(MAX_CIPHERTEXT_LENGTH + 1)));
      expect(error.alert).toBe('record_overflow');
    });

    it('rejects a record whose outer type is not application_data with unexpected_message', () => {
      const keys = randomKeys(aes128);
      const record = new RecordProtector(aes128, keys, provider).protect(22, counting(8));
      record[0] = 22;
      expect(failure(open(new RecordDeprotector(aes128, keys, provider), record)).alert).toBe('unexpected_message');
    });

    it('seals each record with the nonce of its sequence number, across the 2^32 carry too', () => {
      const keys = randomKeys(aes128);
      for (const start of [0n, 2n ** 32n - 2n, 2n ** 40n + 5n, MAX_SEQUENCE_NUMBER - 2n]) {
        const p = new RecordProtector(aes128, keys, provider, { initialSequence: start });
        for (let i = 0n; i < 3n; i++) {
          const content = counting(10, Number(i));
          // What recordNonce gives for this number (RFC 8446 §5.3), sealed by the AEAD directly.
          expect(p.protect(23, content)).toEqual(sealRawInner(keys, concat(content, Uint8Array.of(23)), start + i));
          expect(p.sequence).toBe(start + i + 1n);
        }
        const d = new RecordDeprotector(aes128, keys, provider, { initialSequence: start + 1n });
        expect(opened(open(d, sealRawInner(keys, Uint8Array.of(1, 2, 23), start + 1n))).content).toEqual(Uint8Array.of(1, 2));
        expect(d.sequence).toBe(start + 2n);
      }
    });

    it('writes the last sequence number 2^64 - 1 and then refuses to wrap', () => {
      const keys = randomKeys(aes128);
      const p = new RecordProtector(aes128, keys, provider, { initialSequence: MAX_SEQUENCE_NUMBER });
      const d = new RecordDeprotector(aes128, keys, provider, { initialSequence: MAX_SEQUENCE_NUMBER });
      const last = p.protect(23, counting(4));
      expect(opened(open(d, last)).content).toEqual(counting(4));
      const error = thrown(() => p.protect(23, counting(4)));
      expect(error).toBeInstanceOf(TlsError);
      expect((error as TlsError).alert).toBe('internal_error');
      expect(failure(open(d, last)).reason).toBe('SequenceNumberExhausted');
    });

    it('refuses keys of the wrong size for the suite', () => {
      const chacha = suiteNamed('TLS_CHACHA20_POLY1305_SHA256');
      expect(() => new RecordProtector(chacha, randomKeys(aes128), provider)).toThrow(RangeError);
      expect(() => new RecordDeprotector(aes128, { key: new Uint8Array(16), iv: new Uint8Array(8) }, provider)).toThrow(RangeError);
    });

    it('refuses content type 0 and padding that would exceed 2^14', () => {
      const p = new RecordProtector(aes128, randomKeys(aes128), provider);
      expect(() => p.protect(0, counting(4))).toThrow(RangeError);
      expect(() => p.protect(23, counting(MAX_PLAINTEXT_LENGTH - 3), 4)).toThrow(RangeError);
      expect(p.sequence).toBe(0n);
    });
  });
});
