import { describe, expect, it } from 'vitest';
import { toHex } from '../crypto/bytes.js';
import { seededEnvironment, systemEnvironment } from './env.js';

describe('the system environment', () => {
  it('hands out random bytes of the asked length, never the same bytes twice, small and large requests alike', () => {
    const env = systemEnvironment();
    const seen = new Set<string>();
    // More than one 4 KiB pool's worth of 32-byte draws, and requests bigger than the pool serves.
    for (let i = 0; i < 400; i++) {
      for (const n of [32, 1, 48, 2000]) {
        const b = env.random(n);
        expect(b).toHaveLength(n);
        if (n >= 32) {
          expect(seen.has(toHex(b))).toBe(false);
          seen.add(toHex(b));
        }
      }
    }
    expect(env.random(0)).toHaveLength(0);
  });

  it('gives arrays the caller owns: changing one changes no later draw', () => {
    const env = systemEnvironment();
    const a = env.random(16);
    a.fill(0);
    const b = env.random(16);
    expect(b.buffer).not.toBe(a.buffer);
    expect(toHex(b)).not.toBe('00'.repeat(16));
  });
});

describe('a seeded environment', () => {
  it('replays the same bytes from the same seed', () => {
    const a = seededEnvironment('env-test');
    const b = seededEnvironment('env-test');
    expect(toHex(a.random(100))).toBe(toHex(b.random(100)));
  });
});
