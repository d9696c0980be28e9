/** Environments: where randomness and time come from (injected so handshakes can replay). */
import { randomFillSync } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from '../crypto/bytes.js';
import { nobleProvider } from '../crypto/noble.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { Environment } from '../machines/types.js';

/**
 * Random bytes from node's CSPRNG, drawn 4 KiB at a time: a handshake asks
 * for a dozen small pieces (randoms, session ids, key shares, ticket ids), and
 * one call per piece costs more than the bytes. Every byte is handed out once.
 */
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

function systemRandom(n: number): Uint8Array {
  if (n > POOL_SIZE / 4) return randomFillSync(new Uint8Array(n));
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

export function systemEnvironment(crypto: CryptoProvider = nobleProvider): Environment {
  return { random: systemRandom, now: () => Date.now(), crypto };
}

export interface SeededEnvironment extends Environment {
  /** Move the clock forward. */
  advance(ms: number): void;
  /** Set the clock. */
  setTime(ms: number): void;
}

/**
 * A deterministic environment for tests and golden traces: random bytes from
 * SHA-256(seed ‖ counter), and a clock that moves only when told to.
 * Not for production use.
 */
export function seededEnvironment(seed: string, startMs = Date.UTC(2026, 0, 1), crypto: CryptoProvider = nobleProvider): SeededEnvironment {
  const seedBytes = utf8(seed);
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  let t = startMs;
  return {
    random(n) {
      while (pool.length < n) {
        const c = new Uint8Array(8);
        new DataView(c.buffer).setBigUint64(0, BigInt(counter++));
        pool = concat(pool, sha256(concat(seedBytes, c)));
      }
      const out = pool.slice(0, n);
      pool = pool.slice(n);
      return out;
    },
    now: () => t,
    crypto,
    advance(ms) {
      t += ms;
    },
    setTime(ms) {
      t = ms;
    },
  };
}
