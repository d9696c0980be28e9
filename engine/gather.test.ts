/**
 * gatherOutput: a connection's application data leaves as the chunks of one
 * gathered write (the ciphertext as the provider produced it) — the same bytes
 * as without it, `more` on every chunk but the last, and the records arrive
 * intact, in order, with the sequence numbers right.
 */
import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../crypto/bytes.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { seededEnvironment } from './env.js';
import { makeIdentity, makePair } from './testing/pair.js';

const identity = makeIdentity('ed25519');

/** A connected pair on `provider`, the client's 'output' seen chunk by chunk. */
async function connected(provider: (typeof PROVIDER_CASES)[number]['provider'], seed: number) {
  // One identity and one seed: the same handshake, so the same traffic keys.
  const p = makePair({ identity: await identity, env: seededEnvironment('gather', seed, provider) });
  await p.run();
  const chunks: Array<{ bytes: Uint8Array; more: boolean | undefined }> = [];
  p.client.on('output', (bytes, more) => chunks.push({ bytes, more }));
  return { p, chunks };
}

describe.each(PROVIDER_CASES)('gathered output on the $name provider', ({ provider }) => {
  it('sends the bytes it sends without gathering, as chunks of which only the last has no `more`', async () => {
    const writes = [new Uint8Array(40000).fill(1), new Uint8Array(100).fill(2), new Uint8Array(16384 * 2).fill(3)];
    const plain = await connected(provider, 7);
    const gathered = await connected(provider, 7);
    gathered.p.client.gatherOutput = true;
    for (const w of writes) {
      await plain.p.client.write(w);
      await gathered.p.client.write(w);
    }
    // Seeded alike, so the same keys: the same records, byte for byte.
    expect(toHex(concat(...gathered.chunks.map((c) => c.bytes)))).toBe(toHex(concat(...plain.chunks.map((c) => c.bytes))));
    expect(plain.chunks.map((c) => c.more)).toEqual([undefined, undefined, undefined]);
    // One gathered write per app.write, each ending with a chunk without `more`.
    const ends = gathered.chunks.flatMap((c, i) => (c.more === true ? [] : [i]));
    expect(ends).toHaveLength(3);
    expect(ends.at(-1)).toBe(gathered.chunks.length - 1);
    expect(gathered.chunks.length).toBeGreaterThan(3);
    await gathered.p.run();
    expect(gathered.p.received.server.map((d) => d.length)).toEqual([16384, 16384, 7232, 100, 16384, 16384]);
    expect(toHex(concat(...gathered.p.received.server))).toBe(toHex(concat(...writes)));
    expect(gathered.p.server.state).toBe('connected');
  });

  it('keeps the limits the chart judges: data after close_notify is refused, and the peer sees the close', async () => {
    const { p } = await connected(provider, 8);
    p.client.gatherOutput = true;
    await p.client.write(new Uint8Array(20000).fill(9));
    await p.client.close();
    await expect(p.client.write(new Uint8Array(1))).rejects.toThrow(/close_notify/);
    await p.run();
    expect(toHex(concat(...p.received.server))).toBe(toHex(new Uint8Array(20000).fill(9)));
    expect(p.server.context.closeNotifyReceived).toBe(true);
  });
});
