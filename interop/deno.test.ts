/**
 * X25519MLKEM768 against Deno (the npm package `deno`, a devDependency): its
 * fetch and Deno.serve speak TLS with rustls, and its WebCrypto has ML-KEM-768
 * and X25519 of its own — an implementation independent of @noble for the
 * cross-check of the hybrid layout and combiner.
 *
 * What Deno 2.9 does by default, as seen on the wire: its fetch lists
 * X25519MLKEM768 in supported_groups (last) but sends only an x25519 key share;
 * Deno.serve prefers X25519MLKEM768. So: a default tlschart server takes x25519
 * from Deno's fetch without a HelloRetryRequest; a tlschart server that takes
 * only the hybrid asks for it with a HelloRetryRequest and gets it; a default
 * tlschart client gets the hybrid from Deno.serve. Each full, then resumed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../crypto/bytes.js';
import { nobleProvider as p } from '../crypto/noble.js';
import type { RandomSource } from '../crypto/provider.js';
import { connect } from '../net/connect.js';
import type { TLSSocket } from '../net/socket.js';
import { generateSelfSigned } from '../pki/generate.js';
import { negotiatedGroups } from '../traces/sequence.js';
import { rfc7748, wycheproofMlKem768 as w } from '../vectors/x25519mlkem768.js';
import { NamedGroup } from '../wire/types.js';
import { makeTempDir, type Peer, requireDeno, runDenoFetch, runDenoHybridKem, startDenoServer, type TempDir } from './peers.js';
import { helloRetries, offeredShares, withServe } from './serve-www.js';

const G = NamedGroup.X25519MLKEM768;
let tmp: TempDir;
const peers: Peer[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('tlschart-deno-test-');
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((x) => x.stop()));
});
afterAll(async () => {
  await tmp.remove();
});

describe('Deno fetch (rustls) → tlschart serve', () => {
  it('default server: Deno sends an x25519 share only, so x25519 without a HelloRetryRequest, full then resumed', async (ctx) => {
    const deno = requireDeno(ctx);
    const { log, trace } = await withServe(tmp, [], async (origin) => {
      const run = await runDenoFetch({ deno, origin, paths: ['/one', '/two'] });
      expect(run.code, run.output).toBe(0);
      expect(run.stdout).toMatch(/^\/one 200 .*Group: x25519 \| Session resumed: no/m);
      expect(run.stdout).toMatch(/^\/two 200 .*Group: x25519 \| Session resumed: yes/m);
    });
    expect(log).toMatch(/^conn 1 \S+ full TLS_AES_128_GCM_SHA256 x25519 sni=localhost/m);
    expect(log).toMatch(/^conn 2 \S+ resumed TLS_AES_128_GCM_SHA256 x25519 sni=localhost/m);
    expect(offeredShares(trace)).toEqual([['1d'], ['1d']]);
    expect(helloRetries(trace)).toEqual([false, false]);
    expect(negotiatedGroups(trace)).toEqual(['x25519', 'x25519']);
  });

  it('server taking only X25519MLKEM768: a HelloRetryRequest for it, then the hybrid, full then resumed', async (ctx) => {
    const deno = requireDeno(ctx);
    const { log, trace } = await withServe(tmp, ['--groups', 'X25519MLKEM768'], async (origin) => {
      const run = await runDenoFetch({ deno, origin, paths: ['/one', '/two'] });
      expect(run.code, run.output).toBe(0);
      expect(run.stdout).toMatch(/^\/one 200 .*Group: X25519MLKEM768 \| Session resumed: no/m);
      expect(run.stdout).toMatch(/^\/two 200 .*Group: X25519MLKEM768 \| Session resumed: yes/m);
    });
    expect(log).toMatch(/^conn 1 \S+ full TLS_AES_128_GCM_SHA256 X25519MLKEM768 /m);
    expect(log).toMatch(/^conn 2 \S+ resumed TLS_AES_128_GCM_SHA256 X25519MLKEM768 /m);
    expect(helloRetries(trace)[0]).toBe(true);
    expect(negotiatedGroups(trace)).toEqual(['X25519MLKEM768', 'X25519MLKEM768']);
  });
});

describe('tlschart client → Deno.serve (rustls)', () => {
  it('negotiates X25519MLKEM768 by default, full then resumed with psk_dhe_ke', async (ctx) => {
    const deno = requireDeno(ctx);
    const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const server = await startDenoServer({ deno, certPem, keyPem });
    peers.push(server);
    const once = (session?: Buffer) =>
      new Promise<{ group: string | undefined; reused: boolean; body: string; session: Buffer | undefined }>((resolve, reject) => {
        let body = '';
        let latest: Buffer | undefined;
        const s: TLSSocket = connect({
          host: '127.0.0.1',
          port: server.port,
          servername: 'localhost',
          ca: certPem,
          ...(session ? { session } : {}),
        });
        s.on('session', (b: Buffer) => (latest = b));
        s.on('error', reject);
        s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
        s.on('data', (d: Buffer) => (body += d.toString()));
        s.on('close', () => resolve({ group: s.handshakeInfo?.group, reused: s.isSessionReused(), body, session: latest }));
      });
    const first = await once();
    expect(first).toMatchObject({ group: 'X25519MLKEM768', reused: false });
    expect(first.body).toContain('hello from deno');
    expect(first.session).toBeDefined();
    const second = await once(first.session);
    expect(second).toMatchObject({ group: 'X25519MLKEM768', reused: true });
    expect(second.body).toContain('hello from deno');
  });
});

describe("the hybrid layout and combiner against Deno's WebCrypto (ML-KEM-768 and X25519 of its own)", () => {
  /** Random bytes from a fixed list of hex chunks, in order. */
  const scripted = (...chunks: string[]): RandomSource => {
    const queue = chunks.map(fromHex);
    return (n) => {
      const next = queue.shift();
      if (!next || next.length !== n) throw new Error(`unexpected request for ${n} random bytes`);
      return next;
    };
  };

  it('derives the same client share from the same ML-KEM seed and X25519 private key (Wycheproof seed, RFC 7748 Alice)', async (ctx) => {
    const deno = requireDeno(ctx);
    const theirs = await runDenoHybridKem(deno, { op: 'clientShare', seed: toHex(fromHex(w.seed)), x25519Private: rfc7748.alicePrivate });
    const ours = p.generateKeyPair(G, scripted(w.seed, rfc7748.alicePrivate));
    expect(theirs.share).toBe(toHex(ours.publicKey));
  });

  it('tlschart as the client, Deno as the server: Deno encapsulates, tlschart decapsulates, one 64-byte secret', async (ctx) => {
    const deno = requireDeno(ctx);
    const ours = p.generateKeyPair(G, (n) => crypto.getRandomValues(new Uint8Array(n)));
    const theirs = await runDenoHybridKem(deno, { op: 'serverAccept', clientShare: toHex(ours.publicKey) });
    const r = p.completeShare(ours, fromHex(theirs.share ?? ''));
    if (!r.ok) throw r.error;
    expect(r.value).toHaveLength(64);
    expect(toHex(r.value)).toBe(theirs.secret);
  });

  it('Deno as the client, tlschart as the server: tlschart encapsulates, Deno decapsulates, one 64-byte secret', async (ctx) => {
    const deno = requireDeno(ctx);
    const seed = toHex(crypto.getRandomValues(new Uint8Array(64)));
    const x25519Private = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const { share } = await runDenoHybridKem(deno, { op: 'clientShare', seed, x25519Private });
    const accepted = p.acceptShare(G, fromHex(share ?? ''), (n) => crypto.getRandomValues(new Uint8Array(n)));
    if (!accepted.ok) throw accepted.error;
    const { secret } = await runDenoHybridKem(deno, { op: 'clientSecret', seed, x25519Private, serverShare: toHex(accepted.share) });
    expect(secret).toBe(toHex(accepted.secret));
    // The order matters: the ML-KEM secret comes first (§3.1.3).
    expect(secret).not.toBe(toHex(concat(accepted.secret.subarray(32), accepted.secret.subarray(0, 32))));
  });
});
