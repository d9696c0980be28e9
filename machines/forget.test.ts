/**
 * Once `connected`, each chart drops what only the handshake needed (the
 * `forgetHandshake` entry action): the hellos, the transcript, key shares,
 * early/handshake/master secrets, our own handshake traffic secret, the offered
 * or selected ticket material the handshake no longer needs. What the
 * connection and the API still use stays: application traffic secrets
 * (KeyUpdate), the exporter and (client) resumption secrets, ALPN, the peer's
 * chain, and the witnesses `connected` rests on, each with the key it vouches for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../crypto/bytes.js';
import { BinderVerified, FinishedVerified, SignatureVerified } from '../crypto/witness.js';
import { chainVerifier } from '../engine/config.js';
import { makeIdentity, makePair, type Pair, type TestIdentity } from '../engine/testing/pair.js';
import type { ClientContext } from './client/context.js';
import type { ServerContext } from './server/context.js';

let identity: TestIdentity;
let clientId: TestIdentity;

beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
  clientId = await makeIdentity('ed25519', ['client.example']);
});

const SERVER_DROPPED = [
  'clientHello1',
  'clientHello',
  'helloRetryRequest',
  'serverShare',
  'masterSecret',
  'serverHandshakeSecret',
  'clientApplicationSecret',
  'resumptionSecret',
] as const satisfies readonly (keyof ServerContext)[];

const CLIENT_DROPPED = [
  'clientHello',
  'clientHello1',
  'helloRetryRequest',
  'offeredPsk',
  'earlySecret',
  'handshakeSecret',
  'masterSecret',
  'clientHandshakeSecret',
  'certificateRequest',
] as const satisfies readonly (keyof ClientContext)[];

/** The fields each side must have dropped, as [name, value] (all undefined when dropped). */
const held = <C extends object>(ctx: C, names: readonly (keyof C)[]) =>
  names.map((n) => [n, ctx[n]] as const).filter(([, v]) => v !== undefined);

/** What both sides still need after the handshake: data both ways, KeyUpdate both ways, the same exported keying material. */
async function stillWorks(p: Pair): Promise<void> {
  await p.client.keyUpdate(true);
  await p.server.write(utf8('from the server'));
  await p.client.write(utf8('from the client'));
  await p.run();
  expect(p.client.context.writeGeneration).toBe(1);
  expect(p.server.context.writeGeneration).toBe(1);
  expect(new TextDecoder().decode(p.received.client.at(-1))).toBe('from the server');
  expect(new TextDecoder().decode(p.received.server.at(-1))).toBe('from the client');
  const label = 'EXPORTER-tlschart-test';
  expect(p.client.exportKeyingMaterial(label, utf8('ctx'), 32)).toEqual(p.server.exportKeyingMaterial(label, utf8('ctx'), 32));
}

describe('a connected chart keeps only what the connection still needs', () => {
  it('drops the handshake state on both sides of a full handshake with client authentication', async () => {
    const p = makePair({
      identity,
      client: { clientCertificate: clientId.certified, alpnProtocols: ['h2'] },
      server: {
        requestClientCertificate: true,
        verifyClientChain: chainVerifier({ ca: clientId.certPem, purpose: 'client' }),
        alpnProtocols: ['h2'],
      },
    });
    // Before the handshake completes, the client holds exactly what is dropped later (the check is not vacuous).
    expect(p.client.context.clientHello).toBeDefined();
    expect(p.client.context.keyShares.length).toBeGreaterThan(0);
    await p.run();
    expect(p.client.state).toBe('connected');
    expect(p.server.state).toBe('connected');

    const s = p.server.context;
    expect(held(s, SERVER_DROPPED)).toEqual([]);
    expect(s.transcript).toEqual([]);
    expect(s.clientRandom).toEqual(new Uint8Array(0));
    const c = p.client.context;
    expect(held(c, CLIENT_DROPPED)).toEqual([]);
    expect(c.transcript).toEqual([]);
    // The client logs its application secrets on the step that connects: it keeps its random for those lines.
    expect(c.clientRandom).toHaveLength(32);
    expect(c.keyShares).toEqual([]);

    // Kept: what KeyUpdate, the exporter, tickets and the API read, and the evidence of connected.
    expect(s.suite?.name).toBe(c.suite?.name);
    expect(s.readSecret).toEqual(c.writeSecret);
    expect(s.writeSecret).toEqual(c.readSecret);
    expect(s.exporterSecret).toEqual(c.exporterSecret);
    expect(c.resumptionSecret).toBeDefined();
    expect(s.alpn).toBe('h2');
    expect(c.alpn).toBe('h2');
    expect(s.peerChain).toEqual(clientId.certified.chain);
    expect(c.peerChain).toEqual(identity.certified.chain);
    expect(p.server.info?.peerCertificates).toEqual(clientId.certified.chain);
    expect(s.clientFinished).toBeInstanceOf(FinishedVerified);
    expect(s.clientHandshakeSecret && s.clientFinished?.isFor(s.clientHandshakeSecret)).toBe(true);
    expect(s.clientSignature).toBeInstanceOf(SignatureVerified);
    expect(s.peerSpki && s.clientSignature?.isFor(s.peerSpki)).toBe(true);
    expect(c.serverFinished).toBeInstanceOf(FinishedVerified);
    expect(c.serverHandshakeSecret && c.serverFinished?.isFor(c.serverHandshakeSecret)).toBe(true);
    expect(c.serverSignature).toBeInstanceOf(SignatureVerified);

    // The tickets sent after the handshake were still derived and received (the client keeps its resumption secret).
    expect(p.sessions).toHaveLength(2);
    await stillWorks(p);
  });

  it('drops the retry and the offered ticket after a resumption that followed a HelloRetryRequest, and keeps the proof of the resumption', async () => {
    const first = makePair({ identity });
    await first.run();
    const session = first.sessions[0];
    if (!session) throw new Error('no ticket received');
    const p = makePair({ identity, store: first.store, env: first.env, client: { session }, server: { forceHelloRetry: true } });
    await p.run();
    expect(p.server.info?.resumed).toBe(true);
    expect(p.client.info?.resumed).toBe(true);
    // Two ClientHellos: the retry really happened.
    expect(p.serverTrace.filter((e) => e.kind === 'message' && e.direction === 'in' && e.name === 'client_hello')).toHaveLength(2);

    const s = p.server.context;
    expect(held(s, SERVER_DROPPED)).toEqual([]);
    expect(s.transcript).toEqual([]);
    // The proof of the resumption stays: the binder witness for the PSK of the selected ticket.
    expect(s.resumed).toBe(true);
    expect(s.binder).toBeInstanceOf(BinderVerified);
    expect(s.selectedPsk).toBeDefined();
    const c = p.client.context;
    expect(held(c, CLIENT_DROPPED)).toEqual([]);
    expect(c.keyShares).toEqual([]);
    expect(c.resumed).toBe(true);
    await stillWorks(p);
  });
});
