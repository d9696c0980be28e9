import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededEnvironment } from '../engine/env.js';
import { makeIdentity, makePair } from '../engine/testing/pair.js';
import { nobleProvider } from './noble.js';
import { nodeProvider } from './node-provider.js';
import type { CryptoProvider } from './provider.js';
import { PROVIDER_CASES } from './testing/providers.js';

type Counts = Record<string, number>;

/** A real provider, with every call counted by method name. */
function countingProvider(real: CryptoProvider): { provider: CryptoProvider; counts: Counts } {
  const counts: Counts = {};
  const provider = { ...real, name: 'counting' } as Record<string, unknown>;
  for (const [key, value] of Object.entries(real)) {
    if (typeof value !== 'function') continue;
    provider[key] = (...args: unknown[]) => {
      counts[key] = (counts[key] ?? 0) + 1;
      return (value as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { provider: provider as unknown as CryptoProvider, counts };
}

const methodsOf = (p: CryptoProvider) =>
  Object.keys(p)
    .filter((k) => typeof (p as unknown as Record<string, unknown>)[k] === 'function')
    .sort();

describe('the crypto providers', () => {
  it('node:crypto has exactly the methods of @noble', () => {
    expect(methodsOf(nodeProvider)).toEqual(methodsOf(nobleProvider));
    expect(nodeProvider.name).toBe('node');
  });
});

describe.each(PROVIDER_CASES)('the crypto provider seam ($name)', ({ provider: real }) => {
  it('carries every primitive of a full and a resumed handshake, key exchange and signatures included', async () => {
    const { provider, counts } = countingProvider(real);
    const identity = await makeIdentity('ecdsa-p256');
    const certified = { chain: identity.certified.chain, key: provider.loadSigningKey(identity.keyPem) };
    const env = seededEnvironment('provider-seam', Date.now(), provider);
    const first = makePair({ identity: { ...identity, certified }, env });
    await first.run();
    expect(first.client.isConnected && first.server.isConnected).toBe(true);
    const session = first.sessions[0];
    expect(session).toBeDefined();
    const second = makePair({ identity: { ...identity, certified }, env, store: first.store, client: { session } });
    await second.run();
    expect(second.client.info?.resumed).toBe(true);
    // Application data is sealed into pieces (aeadSealPieces), handshake records into one array (aeadSealInto).
    second.client.gatherOutput = true; // as a socket's connection: application data in pieces
    await second.client.write(new Uint8Array(20000).fill(7));
    await second.run();
    expect(second.received.server.reduce((n, d) => n + d.length, 0)).toBe(20000);
    // The record layer seals with aeadSealInto where a provider has it (both do), else with aeadSeal: one primitive, several shapes.
    const methods = methodsOf(real).filter((m) => m !== 'aeadSeal' || real.aeadSealInto === undefined);
    for (const m of methods) expect({ method: m, calls: counts[m] ?? 0 }).toEqual({ method: m, calls: expect.any(Number) });
    for (const m of methods) expect(counts[m] ?? 0, `${m} was never called through the provider`).toBeGreaterThan(0);
  });
});

describe('the crypto provider seam', () => {
  it('is the only way the charts, the engine, the record layer and the codec reach crypto primitives', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const files = ['machines', 'record', 'wire', 'engine']
      .flatMap((dir) => readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('testing'))
      // env.ts draws randomness (node's CSPRNG, or SHA-256 counters when seeded); config.ts parses X.509 for the leaf key.
      .filter((f) => !['engine/env.ts', 'engine/config.ts'].includes(f));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) =>
      /from '(@noble\/[^']+|node:crypto|[./]*crypto\/(noble|kex|node-provider|node-kex|node-signature)\.js)'/.test(
        readFileSync(path.join(root, f), 'utf8').replace(/import type [^;]+;/g, ''),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
