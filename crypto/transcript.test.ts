import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from './bytes.js';
import { PROVIDER_CASES } from './testing/providers.js';
import { messageHashMessage, transcriptHash } from './transcript.js';

describe.each(PROVIDER_CASES)('the transcript hash on the $name provider', ({ provider }) => {
  const ch1 = fromHex('010000050303aabbcc');
  const hrr = fromHex('0200000403030102');

  describe('transcriptHash (RFC 8446 §4.4.1)', () => {
    it('hashes the concatenation of the raw handshake messages', () => {
      for (const h of ['sha256', 'sha384'] as const) {
        const expected = createHash(h).update(concat(ch1, hrr)).digest('hex');
        expect(toHex(transcriptHash(h, [ch1, hrr], provider))).toBe(expected);
      }
    });

    it('depends on message order', () => {
      expect(toHex(transcriptHash('sha256', [ch1, hrr], provider))).not.toBe(toHex(transcriptHash('sha256', [hrr, ch1], provider)));
    });

    it('of no messages is the hash of the empty string', () => {
      expect(toHex(transcriptHash('sha256', [], provider))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });

    it('rejects anything that is not a list of byte arrays', () => {
      expect(() => transcriptHash('sha256', ['01' as unknown as Uint8Array], provider)).toThrow(TypeError);
      expect(() => transcriptHash('sha512' as 'sha256', [ch1], provider)).toThrow(TypeError);
    });
  });

  describe('messageHashMessage (RFC 8446 §4.4.1, after HelloRetryRequest)', () => {
    it('is type 254, a 3-byte length of Hash.length, then Hash(ClientHello1)', () => {
      const m = messageHashMessage('sha256', ch1, provider);
      expect(toHex(m.subarray(0, 4))).toBe('fe000020');
      expect(toHex(m.subarray(4))).toBe(createHash('sha256').update(ch1).digest('hex'));
      const m384 = messageHashMessage('sha384', ch1, provider);
      expect(toHex(m384.subarray(0, 4))).toBe('fe000030');
      expect(m384).toHaveLength(4 + 48);
    });

    it('replaces ClientHello1 in the transcript', () => {
      const replaced = transcriptHash('sha256', [messageHashMessage('sha256', ch1, provider), hrr], provider);
      expect(toHex(replaced)).not.toBe(toHex(transcriptHash('sha256', [ch1, hrr], provider)));
    });

    it('rejects something that is not a ClientHello with its header', () => {
      expect(() => messageHashMessage('sha256', hrr, provider)).toThrow(RangeError);
      expect(() => messageHashMessage('sha256', fromHex('0100'), provider)).toThrow(RangeError);
    });
  });
});
