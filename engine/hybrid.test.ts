/**
 * X25519MLKEM768 through the sans-IO engine pair: full and resumed handshakes
 * over the hybrid group, the server's group preference (hybrid first when the
 * client sent its share, no HelloRetryRequest when an acceptable share is
 * present), the client's default shares, and malformed hybrid shares refused
 * with the alert draft-ietf-tls-ecdhe-mlkem names.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { recordHeader } from '../record/framing.js';
import type { ClientSession } from '../tickets/types.js';
import { findExtension } from '../wire/extensions.js';
import { type ClientHello, type Extension, type KeyShareEntry, NamedGroup, type ServerHello } from '../wire/types.js';
import { DEFAULT_GROUPS, defaultClientConfig, defaultServerConfig, keyShareGroupsFor } from './config.js';
import type { TraceEntry } from './connection.js';
import { makeIdentity, makePair, type Pair, type PairOptions, type TestIdentity } from './testing/pair.js';
import { rewriteMessage } from './testing/probes.js';

const { X25519MLKEM768: HYBRID, x25519, secp256r1, secp384r1 } = NamedGroup;

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

const pair = (opts: Omit<PairOptions, 'identity'> = {}): Pair => makePair({ identity, ...opts });

type Message = Extract<TraceEntry, { kind: 'message' }>;
const messages = (trace: TraceEntry[], direction: 'in' | 'out', name: string): Message[] =>
  trace.filter((e): e is Message => e.kind === 'message' && e.direction === direction && e.name === name);

function clientShares(p: Pair): KeyShareEntry[][] {
  return messages(p.serverTrace, 'in', 'client_hello').map((m) => {
    if (m.msg?.type !== 'client_hello') throw new Error('not a ClientHello');
    return findExtension(m.msg.extensions, 'key_share_client')?.shares ?? [];
  });
}

function serverHellos(p: Pair): ServerHello[] {
  return messages(p.clientTrace, 'in', 'server_hello').map((m) => {
    if (m.msg?.type !== 'server_hello') throw new Error('not a ServerHello');
    return m.msg;
  });
}

const serverShare = (sh: ServerHello | undefined) => (sh ? findExtension(sh.extensions, 'key_share_server')?.share : undefined);

async function connected(p: Pair): Promise<void> {
  await p.run();
  expect(p.client.error).toBeUndefined();
  expect(p.server.error).toBeUndefined();
  expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
}

/** Split a byte chunk into records and rewrite the first plaintext hello in `direction`. */
function tamperFirstHello<M extends ClientHello | ServerHello>(
  direction: 'toServer' | 'toClient',
  fn: (m: Omit<M, 'raw'>) => Omit<M, 'raw'>,
) {
  let done = false;
  return (dir: 'toServer' | 'toClient', bytes: Uint8Array): Uint8Array[] => {
    if (dir !== direction || done) return [bytes];
    done = true;
    const len = ((bytes[3] as number) << 8) | (bytes[4] as number);
    const body = rewriteMessage<M>(bytes.subarray(5, 5 + len), fn);
    return [concat(recordHeader(22, direction === 'toServer' ? 0x0301 : 0x0303, body.length), body), bytes.subarray(5 + len)];
  };
}

const mapShares = (exts: Extension[], f: (s: KeyShareEntry) => KeyShareEntry): Extension[] =>
  exts.map((e) =>
    e.type === 'key_share_client' ? { ...e, shares: e.shares.map(f) } : e.type === 'key_share_server' ? { ...e, share: f(e.share) } : e,
  );

describe('defaults', () => {
  it('offer X25519MLKEM768, x25519, P-256, P-384, with key shares for the first two', () => {
    expect(DEFAULT_GROUPS).toEqual([HYBRID, x25519, secp256r1, secp384r1]);
    const c = defaultClientConfig();
    expect(c.groups).toEqual([HYBRID, x25519, secp256r1, secp384r1]);
    expect(c.keyShareGroups).toEqual([HYBRID, x25519]);
    expect(defaultServerConfig().groups).toEqual([HYBRID, x25519, secp256r1, secp384r1]);
  });

  it('send a share for the first group, and for the first classical one when the first is the hybrid', () => {
    expect(keyShareGroupsFor([HYBRID, secp256r1, x25519])).toEqual([HYBRID, secp256r1]);
    expect(keyShareGroupsFor([HYBRID])).toEqual([HYBRID]);
    expect(keyShareGroupsFor([x25519, HYBRID])).toEqual([x25519]);
    expect(keyShareGroupsFor([])).toEqual([]);
    expect(defaultClientConfig({ groups: [secp384r1, HYBRID] }).keyShareGroups).toEqual([secp384r1]);
  });
});

describe('tlschart ↔ tlschart over X25519MLKEM768', () => {
  it('completes a full handshake over the hybrid group, with the draft sizes on the wire', async () => {
    const p = pair();
    await connected(p);
    expect(p.client.info?.group).toBe('X25519MLKEM768');
    expect(p.server.info?.group).toBe('X25519MLKEM768');
    const [shares] = clientShares(p);
    expect(shares?.map((s) => [s.group, s.keyExchange.length])).toEqual([
      [HYBRID, 1216],
      [x25519, 32],
    ]);
    const [sh] = serverHellos(p);
    expect(sh?.isHelloRetryRequest).toBe(false);
    expect(serverShare(sh)?.group).toBe(HYBRID);
    expect(serverShare(sh)?.keyExchange).toHaveLength(1120);
    expect(p.sessions).toHaveLength(2);
  });

  it('resumes with psk_dhe_ke and a fresh hybrid share (no Certificate, new tickets)', async () => {
    const first = pair();
    await connected(first);
    const session = first.sessions[0] as ClientSession;
    const p = pair({ store: first.store, env: first.env, client: { session } });
    await connected(p);
    expect(p.client.info?.resumed).toBe(true);
    expect(p.server.info?.resumed).toBe(true);
    expect(p.client.info?.group).toBe('X25519MLKEM768');
    expect(messages(p.clientTrace, 'in', 'certificate')).toHaveLength(0);
    expect(p.sessions).toHaveLength(2);
    const [before] = clientShares(first);
    const [after] = clientShares(p);
    expect(after?.[0]?.group).toBe(HYBRID);
    expect(after?.[0]?.keyExchange).not.toEqual(before?.[0]?.keyExchange);
    const [sh1] = serverHellos(first);
    const [sh2] = serverHellos(p);
    expect(findExtension(sh2?.extensions ?? [], 'pre_shared_key_server')?.selectedIdentity).toBe(0);
    expect(serverShare(sh2)?.group).toBe(HYBRID);
    expect(serverShare(sh2)?.keyExchange).not.toEqual(serverShare(sh1)?.keyExchange);
  });

  it('replays byte for byte from the same seed', async () => {
    const a = pair({ seed: 'replay-hybrid' });
    const b = pair({ seed: 'replay-hybrid' });
    a.env.setTime(b.env.now());
    await connected(a);
    await connected(b);
    expect(a.received.client).toEqual(b.received.client);
    expect(serverShare(serverHellos(a)[0])?.keyExchange).toEqual(serverShare(serverHellos(b)[0])?.keyExchange);
  });
});

describe('server group preference', () => {
  it('picks X25519MLKEM768 when the client sent its share, even listed after x25519', async () => {
    const p = pair({ client: { groups: [x25519, HYBRID], keyShareGroups: [x25519, HYBRID] } });
    await connected(p);
    expect(p.server.info?.group).toBe('X25519MLKEM768');
    expect(serverHellos(p).map((sh) => sh.isHelloRetryRequest)).toEqual([false]);
  });

  it('takes x25519 without a HelloRetryRequest when the client supports the hybrid but sent only an x25519 share (as rustls does)', async () => {
    const p = pair({ client: { groups: [x25519, secp256r1, secp384r1, HYBRID], keyShareGroups: [x25519] } });
    await connected(p);
    expect(p.server.info?.group).toBe('x25519');
    expect(serverHellos(p).map((sh) => sh.isHelloRetryRequest)).toEqual([false]);
  });

  it('takes x25519 from a client that does not know the hybrid (OpenSSL 3.0, GnuTLS, Go 1.19)', async () => {
    const p = pair({ client: { groups: [x25519, secp256r1], keyShareGroups: [x25519] } });
    await connected(p);
    expect(p.server.info?.group).toBe('x25519');
    expect(serverHellos(p)).toHaveLength(1);
  });

  it('parses and ignores a 1216-byte hybrid share when it does not support the group, and answers the x25519 one', async () => {
    const p = pair({ server: { groups: [x25519, secp256r1] } });
    await connected(p);
    expect(clientShares(p)[0]?.map((s) => s.keyExchange.length)).toEqual([1216, 32]);
    expect(p.server.info?.group).toBe('x25519');
    expect(serverHellos(p)).toHaveLength(1);
  });

  it('asks for an X25519MLKEM768 share with a HelloRetryRequest when that is all it takes, full and resumed', async () => {
    const opts = { server: { groups: [HYBRID] }, client: { groups: [x25519, HYBRID], keyShareGroups: [x25519] } };
    const first = pair(opts);
    await connected(first);
    expect(serverHellos(first).map((sh) => sh.isHelloRetryRequest)).toEqual([true, false]);
    const hrr = serverHellos(first)[0];
    expect(findExtension(hrr?.extensions ?? [], 'key_share_hrr')?.selectedGroup).toBe(HYBRID);
    expect(clientShares(first)[1]?.map((s) => [s.group, s.keyExchange.length])).toEqual([[HYBRID, 1216]]);
    expect(first.client.info?.group).toBe('X25519MLKEM768');

    const p = pair({
      ...opts,
      store: first.store,
      env: first.env,
      client: { ...opts.client, session: first.sessions[0] as ClientSession },
    });
    await connected(p);
    expect(p.client.info?.resumed).toBe(true);
    expect(p.client.info?.group).toBe('X25519MLKEM768');
    expect(serverHellos(p).map((sh) => sh.isHelloRetryRequest)).toEqual([true, false]);
  });
});

describe('malformed hybrid shares are refused with illegal_parameter (draft-ietf-tls-ecdhe-mlkem §3.1.2)', () => {
  const unreduced = (s: KeyShareEntry): KeyShareEntry => {
    if (s.group !== HYBRID) return s;
    const k = Uint8Array.from(s.keyExchange);
    k[0] = 0xff; // coefficient 0 becomes 0x?ff | (k[1] & 0x0f) << 8 …
    k[1] = (k[1] as number) | 0x0f; // … = 4095 ≥ q
    return { ...s, keyExchange: k };
  };

  it('server: a client encapsulation key that fails the FIPS 203 modulus check', async () => {
    const p = pair({
      tamper: tamperFirstHello<ClientHello>('toServer', (ch) => ({ ...ch, extensions: mapShares(ch.extensions, unreduced) })),
    });
    await p.run();
    expect(p.server.state).toBe('failed');
    expect(p.server.error?.alert).toBe('illegal_parameter');
    expect(p.server.error?.reason).toBe('InvalidKeyShare');
    expect(p.client.error?.alert).toBe('illegal_parameter');
    expect(p.client.error?.remote).toBe(true);
  });

  it('server: a client share one byte short', async () => {
    const short = (s: KeyShareEntry) => (s.group === HYBRID ? { ...s, keyExchange: s.keyExchange.subarray(1) } : s);
    const p = pair({ tamper: tamperFirstHello<ClientHello>('toServer', (ch) => ({ ...ch, extensions: mapShares(ch.extensions, short) })) });
    await p.run();
    expect(p.server.error?.alert).toBe('illegal_parameter');
    expect(p.server.error?.reason).toBe('InvalidKeyShare');
  });

  it('client: a server share one byte short', async () => {
    const short = (s: KeyShareEntry) => ({ ...s, keyExchange: s.keyExchange.subarray(1) });
    const p = pair({ tamper: tamperFirstHello<ServerHello>('toClient', (sh) => ({ ...sh, extensions: mapShares(sh.extensions, short) })) });
    await p.run();
    expect(p.client.state).toBe('failed');
    expect(p.client.error?.alert).toBe('illegal_parameter');
    expect(p.client.error?.reason).toBe('InvalidKeyShare');
    expect(p.server.error?.alert).toBe('illegal_parameter');
    expect(p.server.error?.remote).toBe(true);
  });

  it('client: a server share whose X25519 half is all zeros', async () => {
    const zeroX = (s: KeyShareEntry) => ({ ...s, keyExchange: concat(s.keyExchange.subarray(0, 1088), new Uint8Array(32)) });
    const p = pair({ tamper: tamperFirstHello<ServerHello>('toClient', (sh) => ({ ...sh, extensions: mapShares(sh.extensions, zeroX) })) });
    await p.run();
    expect(p.client.error?.alert).toBe('illegal_parameter');
    expect(p.client.error?.reason).toBe('InvalidKeyShare');
  });

  it('a flipped ciphertext bit is not an alert from the KEM: the keys differ and the handshake fails on the first protected record', async () => {
    const flip = (s: KeyShareEntry) => {
      const k = Uint8Array.from(s.keyExchange);
      k[10] = (k[10] as number) ^ 1;
      return { ...s, keyExchange: k };
    };
    const p = pair({ tamper: tamperFirstHello<ServerHello>('toClient', (sh) => ({ ...sh, extensions: mapShares(sh.extensions, flip) })) });
    await p.run();
    expect(p.client.state).toBe('failed');
    expect(p.client.error?.alert).toBe('bad_record_mac');
  });
});
