/**
 * Properties of the crypto core: the obfuscated ticket age round-trips
 * modulo 2^32 (RFC 8446 §4.2.11.1), and no single flipped bit in a Finished
 * (§4.4.4) or a PSK binder (§4.2.11.2) ever yields a witness.
 */

import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeBinder, EarlySecret, finishedVerifyData, obfuscatedTicketAge, ticketAgeFromObfuscated } from '../crypto/keyschedule.js';
import { SUPPORTED_SUITES, type SuiteInfo, suiteInfo } from '../crypto/suites.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { verifyBinder, verifyFinished } from '../crypto/witness.js';

describe.each(PROVIDER_CASES)('crypto properties on the $name provider', ({ provider }) => {
  const numRuns = Number(process.env.FC_NUM_RUNS ?? (process.env.TLSCHART_DEEP ? 2000 : 100));

  const suiteArb = fc.constantFrom(...SUPPORTED_SUITES).map((c) => suiteInfo(c) as SuiteInfo);
  const u32 = fc.integer({ min: 0, max: 0xffffffff });

  function flipBit(b: Uint8Array, bit: number): Uint8Array {
    const out = Uint8Array.from(b);
    out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
    return out;
  }

  /** A suite with a base key and transcript hash of its hash length, and a bit position inside verify_data. */
  const finishedCase = suiteArb.chain((suite) =>
    fc.record({
      suite: fc.constant(suite),
      key: fc.uint8Array({ minLength: suite.hashLen, maxLength: suite.hashLen }),
      th: fc.uint8Array({ minLength: suite.hashLen, maxLength: suite.hashLen }),
      bit: fc.integer({ min: 0, max: suite.hashLen * 8 - 1 }),
    }),
  );

  describe('obfuscated ticket age', () => {
    // Written with @fast-check/vitest's test.prop: the runner reports the seed and counterexample itself.
    test.prop([fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), u32], { numRuns })(
      'round-trips modulo 2^32 for any age and ticket_age_add',
      (age, add) => {
        const obf = obfuscatedTicketAge(age, add);
        expect(obf).toBeGreaterThanOrEqual(0);
        expect(obf).toBeLessThan(2 ** 32);
        expect(ticketAgeFromObfuscated(obf, add)).toBe(age % 2 ** 32);
      },
    );
  });

  describe('Finished and binder witnesses', () => {
    it('a Finished with any one bit flipped never verifies, the original always does', () => {
      fc.assert(
        fc.property(finishedCase, ({ suite, key, th, bit }) => {
          const good = finishedVerifyData(suite, key, th, provider);
          expect(verifyFinished(suite, key, th, good, provider)).toBeDefined();
          expect(verifyFinished(suite, key, th, flipBit(good, bit), provider)).toBeUndefined();
        }),
        { numRuns },
      );
    });

    it('a binder with any one bit flipped never verifies, the original always does', () => {
      fc.assert(
        fc.property(finishedCase, ({ suite, key, th, bit }) => {
          const binderKey = EarlySecret.create(suite, key, provider).resumptionBinderKey();
          const good = computeBinder(suite, binderKey, th, provider);
          expect(verifyBinder(suite, binderKey, th, good, provider)).toBeDefined();
          expect(verifyBinder(suite, binderKey, th, flipBit(good, bit), provider)).toBeUndefined();
        }),
        { numRuns },
      );
    });
  });
});
