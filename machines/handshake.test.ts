/**
 * The two statecharts end to end through the sans-IO engine: the seed
 * document's two figures, every refusal with its exact alert, and (last) the
 * transition coverage of both machines computed from their definitions.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { concat, utf8 } from '../crypto/bytes.js';
import { EarlySecret, trafficKeys } from '../crypto/keyschedule.js';
import { nobleProvider } from '../crypto/noble.js';
import { suiteInfo } from '../crypto/suites.js';
import { transcriptHash } from '../crypto/transcript.js';
import { chainVerifier } from '../engine/config.js';
import type { TraceEntry } from '../engine/connection.js';
import { seededEnvironment } from '../engine/env.js';
import { makeIdentity, makePair, type Pair, type PairOptions, type TestIdentity } from '../engine/testing/pair.js';
import {
  clientFlightProbe,
  clientHelloProbe,
  flipLastBit,
  insertBefore,
  mapMessage,
  rewriteMessage,
  serverFlightProbe,
  ticketProbe,
} from '../engine/testing/probes.js';
import { recordHeader } from '../record/framing.js';
import { RecordProtector } from '../record/protection.js';
import type { ClientSession } from '../tickets/types.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake, encodeHandshake } from '../wire/handshake.js';
import {
  type Certificate,
  CipherSuite,
  type ClientHello,
  type EncryptedExtensions,
  type Extension,
  NamedGroup,
  PskKeyExchangeMode,
  type ServerHello,
} from '../wire/types.js';
import { clientMachine } from './client/machine.js';
import { CoverageRecorder } from './coverage.js';
import { serverMachine } from './server/machine.js';

let identity: TestIdentity;
const clientCoverage = new CoverageRecorder();
const serverCoverage = new CoverageRecorder();

beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

/** A pair whose traces feed the coverage report. */
function pair(opts: Omit<PairOptions, 'identity'> & { identity?: TestIdentity }): Pair {
  const p = makePair({ identity, ...opts });
  p.client.on('trace', (e) => clientCoverage.record(e, 'expectServerHello'));
  p.server.on('trace', (e) => serverCoverage.record(e, 'expectClientHello'));
  return p;
}

const names = (trace: TraceEntry[], direction: 'in' | 'out') =>
  trace.filter((e): e is Extract<TraceEntry, { kind: 'message' }> => e.kind === 'message' && e.direction === direction).map((e) => e.name);

async function fullThenSession(opts: Omit<PairOptions, 'identity'> = {}): Promise<{ first: Pair; session: ClientSession }> {
  const first = pair(opts);
  await first.run();
  expect(first.client.error).toBeUndefined();
  const session = first.sessions[0];
  if (!session) throw new Error('no ticket received');
  return { first, session };
}

/** A second connection that offers a ticket from a first, full one (same store and clock). */
async function resumingPair(opts: Omit<PairOptions, 'identity' | 'store' | 'env'> = {}): Promise<Pair> {
  const { first, session } = await fullThenSession();
  return pair({ ...opts, store: first.store, env: first.env, client: { session, ...opts.client } });
}

/** Split a byte chunk into records (type, body). */
function records(bytes: Uint8Array): { type: number; body: Uint8Array }[] {
  const out: { type: number; body: Uint8Array }[] = [];
  let i = 0;
  while (i + 5 <= bytes.length) {
    const len = ((bytes[i + 3] as number) << 8) | (bytes[i + 4] as number);
    out.push({ type: bytes[i] as number, body: bytes.slice(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

/** One plaintext record around `body`. */
const record = (type: number, body: Uint8Array, version = 0x0303): Uint8Array => concat(recordHeader(type, version, body.length), body);

/** Rewrite the plaintext hello in the first record sent in `direction`. */
function tamperFirstHello<M extends ClientHello | ServerHello>(
  direction: 'toServer' | 'toClient',
  fn: (m: Omit<M, 'raw'>) => Omit<M, 'raw'>,
) {
  let done = false;
  return (dir: 'toServer' | 'toClient', bytes: Uint8Array): Uint8Array[] => {
    if (dir !== direction || done) return [bytes];
    done = true;
    const [rec] = records(bytes);
    if (rec?.type !== 22) return [bytes];
    return [record(22, rewriteMessage<M>(rec.body, fn), direction === 'toServer' ? 0x0301 : 0x0303)];
  };
}

/** Rewrite the plaintext ClientHello in the first record sent to the server. */
const tamperClientHello = (fn: (ch: Omit<ClientHello, 'raw'>) => Omit<ClientHello, 'raw'>) => tamperFirstHello<ClientHello>('toServer', fn);

/** Rewrite the plaintext ServerHello in the first record sent to the client. */
const tamperServerHello = (fn: (sh: Omit<ServerHello, 'raw'>) => Omit<ServerHello, 'raw'>) => tamperFirstHello<ServerHello>('toClient', fn);

const withoutExt = (exts: Extension[], type: Extension['type']) => exts.filter((e) => e.type !== type);
const mapExt = (exts: Extension[], type: Extension['type'], f: (e: Extension) => Extension) =>
  exts.map((e) => (e.type === type ? f(e) : e));

function expectFailure(p: Pair, side: 'client' | 'server', alert: string, reason?: string) {
  const conn = side === 'client' ? p.client : p.server;
  expect(conn.state).toBe('failed');
  expect(conn.error?.alert).toBe(alert);
  if (reason) expect(conn.error?.reason).toBe(reason);
  // The other side receives exactly that alert.
  const other = side === 'client' ? p.server : p.client;
  if (!conn.error?.remote) {
    expect(other.state).toBe('failed');
    expect(other.error?.remote).toBe(true);
    expect(other.error?.alert).toBe(alert);
  }
}

// ------------------------------------------------------------------ figure 1 and 2

describe('the seed document, figure 1: a full handshake that establishes a PSK', () => {
  it('completes a full handshake, sends two tickets and carries application data both ways', async () => {
    const p = pair({});
    await p.client.write(utf8('ping'));
    await p.run();
    await p.server.write(utf8('pong'));
    await p.run();
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
    expect(p.client.info).toMatchObject({
      resumed: false,
      suite: 'TLS_AES_128_GCM_SHA256',
      group: 'X25519MLKEM768',
      serverName: 'localhost',
    });
    expect(names(p.serverTrace, 'out')).toEqual([
      'server_hello',
      'encrypted_extensions',
      'certificate',
      'certificate_verify',
      'finished',
      'new_session_ticket',
      'new_session_ticket',
    ]);
    expect(names(p.clientTrace, 'out')).toEqual(['client_hello', 'finished']);
    expect(p.sessions).toHaveLength(2);
    expect(new TextDecoder().decode(p.received.server[0])).toBe('ping');
    expect(new TextDecoder().decode(p.received.client[0])).toBe('pong');
    // the witness for the server's Finished exists, minted by verifyFinished
    expect(p.client.context.serverFinished).toBeDefined();
    expect(p.server.context.clientFinished).toBeDefined();
  });

  it('sends the configured number of tickets, none when 0', async () => {
    for (const n of [0, 1, 3]) {
      const p = pair({ server: { ticketsPerHandshake: n } });
      await p.run();
      expect(p.sessions).toHaveLength(n);
    }
  });

  it('issues tickets with fresh nonces, age_add and identifiers, a lifetime capped at 7 days, and no early_data', async () => {
    const p = pair({ server: { ticketsPerHandshake: 3, ticketLifetimeS: 10_000_000 } });
    await p.run();
    const nsts = p.clientTrace.flatMap((e) => (e.kind === 'message' && e.msg?.type === 'new_session_ticket' ? [e.msg] : []));
    expect(nsts).toHaveLength(3);
    expect(new Set(nsts.map((n) => Buffer.from(n.ticket).toString('hex'))).size).toBe(3);
    expect(new Set(nsts.map((n) => Buffer.from(n.ticketNonce).toString('hex'))).size).toBe(3);
    expect(new Set(nsts.map((n) => n.ticketAgeAdd)).size).toBe(3);
    for (const n of nsts) {
      expect(n.ticket).toHaveLength(32);
      expect(n.ticketLifetime).toBe(604800);
      expect(findExtension(n.extensions, 'early_data_ticket')).toBeUndefined();
    }
  });

  it('negotiates each cipher suite and each group', async () => {
    for (const suite of [
      CipherSuite.TLS_AES_128_GCM_SHA256,
      CipherSuite.TLS_AES_256_GCM_SHA384,
      CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ]) {
      const p = pair({ client: { cipherSuites: [suite] } });
      await p.run();
      expect(p.client.info?.suite).toBe(suiteInfo(suite)?.name);
      expect(p.server.info?.suite).toBe(suiteInfo(suite)?.name);
    }
    for (const group of [NamedGroup.X25519MLKEM768, NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]) {
      const p = pair({ client: { groups: [group], keyShareGroups: [group] } });
      await p.run();
      expect(p.client.state).toBe('connected');
      expect(p.client.context.group).toBe(group);
    }
  });

  it('negotiates ALPN and echoes SNI', async () => {
    const p = pair({ client: { alpnProtocols: ['h2', 'http/1.1'] }, server: { alpnProtocols: ['http/1.1'] } });
    await p.run();
    expect(p.client.info?.alpn).toBe('http/1.1');
    expect(p.server.info?.alpn).toBe('http/1.1');
    expect(p.server.info?.serverName).toBe('localhost');
  });

  it('refuses a client whose ALPN protocols the server does not serve with no_application_protocol', async () => {
    const p = pair({ client: { alpnProtocols: ['h2'] }, server: { alpnProtocols: ['http/1.1'] } });
    await p.run();
    expectFailure(p, 'server', 'no_application_protocol', 'NoCommonAlpn');
  });

  it('uses middlebox compatibility mode: a 32-byte session id echoed and one ChangeCipherSpec each way', async () => {
    const p = pair({});
    await p.run();
    const sh = p.clientTrace.find((e) => e.kind === 'message' && e.msg?.type === 'server_hello');
    const ch = p.serverTrace.find((e) => e.kind === 'message' && e.msg?.type === 'client_hello');
    if (sh?.kind !== 'message' || sh.msg?.type !== 'server_hello' || ch?.kind !== 'message' || ch.msg?.type !== 'client_hello')
      throw new Error('no hellos');
    expect(ch.msg.legacySessionId).toHaveLength(32);
    expect(sh.msg.legacySessionIdEcho).toEqual(ch.msg.legacySessionId);
    expect(p.clientTrace.filter((e) => e.kind === 'ccs' && e.direction === 'out')).toHaveLength(1);
    expect(p.serverTrace.filter((e) => e.kind === 'ccs' && e.direction === 'out')).toHaveLength(1);
    const q = pair({ client: { compatibilityMode: false } });
    await q.run();
    expect(q.client.state).toBe('connected');
    expect(q.clientTrace.filter((e) => e.kind === 'ccs')).toHaveLength(0);
    expect(q.serverTrace.filter((e) => e.kind === 'ccs')).toHaveLength(0);
  });

  it('handles KeyUpdate in both directions and answers update_requested', async () => {
    const p = pair({});
    await p.run();
    await p.client.keyUpdate(true);
    await p.run();
    expect(p.client.context.writeGeneration).toBe(1);
    expect(p.server.context.readGeneration).toBe(1);
    expect(p.server.context.writeGeneration).toBe(1); // answered the request
    expect(p.client.context.readGeneration).toBe(1);
    await p.server.keyUpdate(false);
    await p.server.write(utf8('after update'));
    await p.client.write(utf8('me too'));
    await p.run();
    expect(p.server.context.writeGeneration).toBe(2);
    expect(p.client.context.writeGeneration).toBe(1); // not requested: no answer
    expect(new TextDecoder().decode(p.received.client.at(-1))).toBe('after update');
    expect(new TextDecoder().decode(p.received.server.at(-1))).toBe('me too');
  });

  it('closes with close_notify on both sides, each closing its own write side (RFC 8446 §6.1)', async () => {
    const p = pair({});
    let serverEnds = 0;
    let clientCloses = 0;
    p.server.on('end', () => serverEnds++);
    p.client.on('close', () => clientCloses++);
    await p.run();
    await p.client.close();
    await p.run();
    // the server has read everything; its own write side is still open
    expect(serverEnds).toBe(1);
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
    await expect(p.client.write(utf8('too late'))).rejects.toThrow(/close_notify/);
    await p.server.write(utf8('still coming'));
    await p.server.close();
    await p.run();
    expect(new TextDecoder().decode(p.received.client.at(-1))).toBe('still coming');
    expect([p.client.state, p.server.state]).toEqual(['closed', 'closed']);
    expect(clientCloses).toBe(1);
  });

  it("ignores application data after the peer's close_notify", async () => {
    const p = pair({});
    await p.run();
    await p.server.close();
    await p.run();
    await p.client.inject({ type: 'recv.ApplicationData', data: utf8('after close') });
    expect(p.received.client).toHaveLength(0);
    expect(p.client.state).toBe('connected');
    const q = pair({});
    await q.run();
    await q.client.close();
    await q.run();
    await q.server.inject({ type: 'recv.ApplicationData', data: utf8('after close') });
    expect(q.received.server).toHaveLength(0);
  });

  it('a close_notify during the handshake ends the connection on both sides', async () => {
    const p = pair({ tamper: (dir, bytes, i) => (i === 0 ? [bytes] : dir === 'toServer' ? [bytes] : []) });
    await p.run(); // the server's flight never arrives
    await p.client.close();
    await p.run();
    expect([p.client.state, p.server.state]).toEqual(['closed', 'closed']);
    const q = pair({ tamper: (_dir, bytes, i) => (i === 0 ? [] : [bytes]) });
    await q.run(); // the ClientHello never arrives
    expect(q.client.state).toBe('expectServerHello');
    await q.server.close();
    await q.run();
    expect([q.client.state, q.server.state]).toEqual(['closed', 'closed']);
  });

  it('a fatal alert after the handshake fails the connection with that alert', async () => {
    const p = pair({});
    await p.run();
    await p.client.inject({ type: 'recv.Alert', level: 2, description: 40 });
    expect(p.client.state).toBe('failed');
    expect(p.client.error).toMatchObject({ alert: 'handshake_failure', remote: true });
    await p.server.inject({ type: 'recv.Alert', level: 2, description: 80 });
    expect(p.server.state).toBe('failed');
    expect(p.server.error).toMatchObject({ alert: 'internal_error', remote: true });
  });

  it('keeps a long connection small: the outbox is emptied once carried out', async () => {
    const p = pair({});
    await p.run();
    for (let i = 0; i < 100; i++) await p.client.write(utf8(`m${i}`));
    await p.run();
    expect(p.received.server).toHaveLength(100);
    expect(p.client.context.outbox.length).toBeLessThan(70);
  });
});

describe('the seed document, figure 2: a handshake that uses the PSK (psk_dhe_ke)', () => {
  it('resumes with a fresh key share, no Certificate or CertificateVerify, and new tickets', async () => {
    const { first, session } = await fullThenSession();
    const p = pair({ store: first.store, env: first.env, client: { session } });
    await p.run();
    expect(p.client.info?.resumed).toBe(true);
    expect(p.server.info?.resumed).toBe(true);
    expect(names(p.serverTrace, 'out')).toEqual([
      'server_hello',
      'encrypted_extensions',
      'finished',
      'new_session_ticket',
      'new_session_ticket',
    ]);
    expect(p.sessions).toHaveLength(2);
    const ch = p.serverTrace.find((e) => e.kind === 'message' && e.msg?.type === 'client_hello');
    if (ch?.kind !== 'message' || ch.msg?.type !== 'client_hello') throw new Error('no ClientHello');
    expect(findExtension(ch.msg.extensions, 'psk_key_exchange_modes')?.modes).toEqual([PskKeyExchangeMode.psk_dhe_ke]);
    // A fresh share for each default key-share group: X25519MLKEM768 and x25519.
    expect(findExtension(ch.msg.extensions, 'key_share_client')?.shares.map((s) => s.group)).toEqual([
      NamedGroup.X25519MLKEM768,
      NamedGroup.x25519,
    ]);
    expect(ch.msg.extensions.at(-1)?.type).toBe('pre_shared_key_client');
    const sh = p.clientTrace.find((e) => e.kind === 'message' && e.msg?.type === 'server_hello');
    if (sh?.kind !== 'message' || sh.msg?.type !== 'server_hello') throw new Error('no ServerHello');
    expect(findExtension(sh.msg.extensions, 'key_share_server')).toBeDefined();
    expect(findExtension(sh.msg.extensions, 'pre_shared_key_server')?.selectedIdentity).toBe(0);
    expect(p.server.context.binder).toBeDefined();
    // the ECDHE share differs from the first connection's
    const firstSh = first.clientTrace.find((e) => e.kind === 'message' && e.msg?.type === 'server_hello');
    if (firstSh?.kind !== 'message' || firstSh.msg?.type !== 'server_hello') throw new Error('no ServerHello');
    expect(findExtension(sh.msg.extensions, 'key_share_server')?.share.keyExchange).not.toEqual(
      findExtension(firstSh.msg.extensions, 'key_share_server')?.share.keyExchange,
    );
  });

  it('sends the obfuscated ticket age (age + ticket_age_add mod 2^32)', async () => {
    const { first, session } = await fullThenSession();
    first.env.advance(12_345);
    const p = pair({ store: first.store, env: first.env, client: { session } });
    await p.run();
    const ch = p.serverTrace.find((e) => e.kind === 'message' && e.msg?.type === 'client_hello');
    if (ch?.kind !== 'message' || ch.msg?.type !== 'client_hello') throw new Error('no ClientHello');
    const id = findExtension(ch.msg.extensions, 'pre_shared_key_client')?.identities[0];
    expect(id?.obfuscatedTicketAge).toBe((12_345 + session.ticketAgeAdd) % 2 ** 32);
    expect(p.client.info?.resumed).toBe(true);
  });

  it('resumes at most once: a ticket used twice gives a full handshake the second time', async () => {
    const { first, session } = await fullThenSession();
    const a = pair({ store: first.store, env: first.env, client: { session } });
    await a.run();
    expect(a.client.info?.resumed).toBe(true);
    const b = pair({ store: first.store, env: first.env, client: { session } });
    await b.run();
    expect(b.client.state).toBe('connected');
    expect(b.client.info?.resumed).toBe(false);
    expect(names(b.serverTrace, 'out')).toContain('certificate');
  });

  it('does not resume an expired ticket, a ticket under another SNI, or a ticket whose hash differs from the chosen suite', async () => {
    {
      const { first, session } = await fullThenSession({ server: { ticketLifetimeS: 60 } });
      first.env.advance(61_000);
      const p = pair({ store: first.store, env: first.env, client: { session: { ...session, lifetimeS: 3600 } } });
      await p.run();
      expect(p.client.state).toBe('connected');
      expect(p.client.info?.resumed).toBe(false);
    }
    {
      const { first, session } = await fullThenSession();
      const p = pair({ store: first.store, env: first.env, client: { session, serverName: 'other.example' } });
      await p.run();
      expect(p.server.state).toBe('connected');
      expect(p.server.info?.resumed).toBe(false);
    }
    {
      const { first, session } = await fullThenSession({ client: { cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256] } });
      const p = pair({
        store: first.store,
        env: first.env,
        client: { session, cipherSuites: [CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_AES_128_GCM_SHA256] },
        server: { cipherSuites: [CipherSuite.TLS_AES_256_GCM_SHA384] },
      });
      await p.run();
      expect(p.server.state).toBe('connected');
      expect(p.server.info?.resumed).toBe(false);
      expect(p.server.info?.suite).toBe('TLS_AES_256_GCM_SHA384');
    }
  });

  it('ignores an unknown identity (no out-of-band PSKs) and completes in full', async () => {
    const { first, session } = await fullThenSession();
    const p = pair({ store: first.store, env: first.env, client: { session: { ...session, ticket: new Uint8Array(32).fill(7) } } });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(p.server.info?.resumed).toBe(false);
  });

  it("does not resume from another server's store", async () => {
    const { first, session } = await fullThenSession();
    const p = pair({ env: first.env, client: { session } });
    await p.run();
    expect(p.server.info?.resumed).toBe(false);
  });

  it('rejects a tampered binder with decrypt_error', async () => {
    const p = await resumingPair({
      tamper: tamperClientHello((ch) => ({
        ...ch,
        extensions: mapExt(ch.extensions, 'pre_shared_key_client', (e) =>
          e.type === 'pre_shared_key_client' ? { ...e, binders: e.binders.map(flipLastBit) } : e,
        ),
      })),
    });
    await p.run();
    expectFailure(p, 'server', 'decrypt_error', 'IncorrectBinder');
  });

  it('rejects identities and binders of different counts with illegal_parameter', async () => {
    const p = await resumingPair({
      tamper: (dir, bytes) => {
        if (dir !== 'toServer' || bytes[5] !== 1) return [bytes];
        const body = records(bytes)[0]!.body;
        const d = decodeHandshake(body);
        if (!d.ok || d.value.type !== 'client_hello') throw new Error('bad hello');
        const psk = findExtension(d.value.extensions, 'pre_shared_key_client')!;
        // two identities, one binder: the codec cannot produce this, so the bytes are built by hand
        const id = psk.identities[0]!;
        const oneId = [...u16(id.identity.length), ...id.identity, ...u32(id.obfuscatedTicketAge)];
        const ids = [...u16(oneId.length * 2), ...oneId, ...oneId];
        const binder = psk.binders[0]!;
        const binders = [...u16(binder.length + 1), binder.length, ...binder];
        const ext = [0, 41, ...u16(ids.length + binders.length), ...ids, ...binders];
        const raw = replaceLastExtension(body, new Uint8Array(ext));
        const r = record(22, raw, 0x0301);
        return [r];
      },
    });
    await p.run();
    // the codec refuses it before the machine sees it (RFC 8446 §4.2.11)
    expectFailure(p, 'server', 'illegal_parameter', 'BinderCountMismatch');
    expect(p.server.error?.message).toMatch(/binder/);
  });

  it('rejects pre_shared_key without psk_key_exchange_modes with missing_extension', async () => {
    const p = await resumingPair({
      tamper: tamperClientHello((ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'psk_key_exchange_modes') })),
    });
    await p.run();
    expectFailure(p, 'server', 'missing_extension', 'PskWithoutModes');
  });

  it('refuses psk_ke-only resumption: the PSK is ignored, the handshake is full, and no tickets are sent', async () => {
    const p = await resumingPair({
      clientMachine: clientHelloProbe((ch) => ({
        ...ch,
        extensions: mapExt(ch.extensions, 'psk_key_exchange_modes', () => ({
          type: 'psk_key_exchange_modes',
          modes: [PskKeyExchangeMode.psk_ke],
        })),
      })),
    });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(p.server.info?.resumed).toBe(false);
    expect(names(p.serverTrace, 'out')).toContain('certificate');
    expect(names(p.serverTrace, 'out')).not.toContain('new_session_ticket');
    expect(p.sessions).toHaveLength(0);
  });

  it('client rejects a ServerHello that selects an unoffered PSK with illegal_parameter', async () => {
    const p = await resumingPair({
      tamper: tamperServerHello((sh) => ({
        ...sh,
        extensions: mapExt(sh.extensions, 'pre_shared_key_server', () => ({ type: 'pre_shared_key_server', selectedIdentity: 1 })),
      })),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'SelectedUnofferedPsk');
  });

  it('client rejects a PSK ServerHello without key_share (psk_ke) with illegal_parameter', async () => {
    const p = await resumingPair({
      tamper: tamperServerHello((sh) => ({ ...sh, extensions: withoutExt(sh.extensions, 'key_share_server') })),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'PskWithoutKeyShare');
  });

  it("client rejects a PSK ServerHello whose suite hash differs from the ticket's with illegal_parameter", async () => {
    const p = await resumingPair({
      tamper: tamperServerHello((sh) => ({ ...sh, cipherSuite: CipherSuite.TLS_AES_256_GCM_SHA384 })),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'PskHashMismatch');
  });

  it('client rejects Certificate after a PSK ServerHello with unexpected_message', async () => {
    const { first, session } = await fullThenSession();
    const cert = encodeHandshake<Certificate>({
      type: 'certificate',
      certificateRequestContext: new Uint8Array(0),
      entries: identity.certified.chain.map((certData) => ({ certData, extensions: [] })),
    });
    const p = pair({
      store: first.store,
      env: first.env,
      client: { session },
      serverMachine: serverFlightProbe(insertBefore('finished', cert)),
    });
    await p.run();
    expectFailure(p, 'client', 'unexpected_message', 'UnexpectedMessage');
  });

  it('client completes the full handshake when the server declines the PSK', async () => {
    const { first, session } = await fullThenSession();
    const p = pair({ env: first.env, client: { session } }); // a fresh store knows nothing
    await p.run();
    expect(p.client.state).toBe('connected');
    expect(p.client.info?.resumed).toBe(false);
    expect(p.sessions.length).toBe(2);
  });
});

describe('HelloRetryRequest', () => {
  it('retries when the client sent no acceptable share, and completes', async () => {
    const p = pair({
      client: { groups: [NamedGroup.secp384r1, NamedGroup.x25519], keyShareGroups: [NamedGroup.secp384r1] },
      server: { groups: [NamedGroup.x25519] },
    });
    await p.run();
    expect(p.client.state).toBe('connected');
    expect(p.client.info?.group).toBe('x25519');
    expect(names(p.clientTrace, 'out')).toEqual(['client_hello', 'client_hello', 'finished']);
    expect(p.clientTrace.filter((e) => e.kind === 'ccs' && e.direction === 'out')).toHaveLength(1);
  });

  it('echoes the cookie of a forced retry', async () => {
    const p = pair({ server: { forceHelloRetry: true } });
    await p.run();
    expect(p.client.state).toBe('connected');
    const chs = p.serverTrace.flatMap((e) => (e.kind === 'message' && e.msg?.type === 'client_hello' ? [e.msg] : []));
    expect(chs).toHaveLength(2);
    const hrr = p.serverTrace.find((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'server_hello');
    const sent = hrr?.kind === 'message' ? decodeHandshake(hrr.raw) : undefined;
    const cookie = sent?.ok && sent.value.type === 'server_hello' ? findExtension(sent.value.extensions, 'cookie')?.cookie : undefined;
    expect(cookie).toBeDefined();
    expect(findExtension(chs[1]!.extensions, 'cookie')?.cookie).toEqual(cookie);
  });

  it('resumes after a HelloRetryRequest with binders recomputed over the new transcript', async () => {
    const { first, session } = await fullThenSession();
    const p = pair({ store: first.store, env: first.env, client: { session }, server: { forceHelloRetry: true } });
    await p.run();
    expect(p.client.info?.resumed).toBe(true);
    expect(p.server.info?.resumed).toBe(true);
    const chs = p.serverTrace.flatMap((e) => (e.kind === 'message' && e.msg?.type === 'client_hello' ? [e.msg] : []));
    const b1 = findExtension(chs[0]!.extensions, 'pre_shared_key_client')?.binders[0];
    const b2 = findExtension(chs[1]!.extensions, 'pre_shared_key_client')?.binders[0];
    expect(b1).toBeDefined();
    expect(b2).not.toEqual(b1);
  });

  it('rejects a second ClientHello that replays the first binder (stale binder) with decrypt_error', async () => {
    const { first, session } = await fullThenSession();
    let firstBinder: Uint8Array | undefined;
    let count = 0;
    const p = pair({
      store: first.store,
      env: first.env,
      client: { session },
      server: { forceHelloRetry: true },
      tamper: (dir, bytes) => {
        if (dir !== 'toServer') return [bytes];
        const out: Uint8Array[] = [];
        for (const rec of records(bytes)) {
          if (rec.type === 22 && rec.body[0] === 1) {
            count++;
            const d = decodeHandshake(rec.body);
            if (!d.ok || d.value.type !== 'client_hello') throw new Error('bad hello');
            const psk = findExtension(d.value.extensions, 'pre_shared_key_client');
            if (count === 1) firstBinder = psk?.binders[0];
            if (count === 2 && firstBinder) {
              const raw = rewriteMessage<ClientHello>(rec.body, (ch) => ({
                ...ch,
                extensions: mapExt(ch.extensions, 'pre_shared_key_client', (e) =>
                  e.type === 'pre_shared_key_client' ? { ...e, binders: [firstBinder!] } : e,
                ),
              }));
              out.push(record(22, raw));
              continue;
            }
          }
          out.push(record(rec.type, rec.body));
        }
        return out;
      },
    });
    await p.run();
    expectFailure(p, 'server', 'decrypt_error', 'IncorrectBinder');
  });

  it('server rejects a second ClientHello without the cookie with illegal_parameter', async () => {
    let count = 0;
    const p = pair({
      server: { forceHelloRetry: true },
      tamper: (dir, bytes) => {
        if (dir !== 'toServer') return [bytes];
        return records(bytes).map((rec) => {
          let body = rec.body;
          if (rec.type === 22 && body[0] === 1 && ++count === 2) {
            body = rewriteMessage<ClientHello>(body, (ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'cookie') }));
          }
          const r = record(rec.type, body, 0x0303);
          return r;
        });
      },
    });
    await p.run();
    expectFailure(p, 'server', 'illegal_parameter', 'CookieMismatch');
  });

  it('client rejects a second HelloRetryRequest with unexpected_message', async () => {
    const hrrRaw: Uint8Array[] = [];
    const p = pair({
      server: { forceHelloRetry: true },
      tamper: (dir, bytes) => {
        if (dir !== 'toClient') return [bytes];
        const recs = records(bytes);
        const first = recs[0];
        if (first && first.type === 22 && hrrRaw.length === 0) {
          hrrRaw.push(bytes);
          return [bytes];
        }
        if (first && first.type === 22 && hrrRaw.length === 1) {
          hrrRaw.push(bytes);
          return [hrrRaw[0]!]; // replay the HelloRetryRequest instead of the ServerHello
        }
        return [bytes];
      },
    });
    await p.run();
    expectFailure(p, 'client', 'unexpected_message', 'SecondHelloRetryRequest');
  });

  it('client rejects a HelloRetryRequest that asks for a share it already sent with illegal_parameter', async () => {
    const p = pair({
      server: { forceHelloRetry: true },
      tamper: tamperServerHello((hrr) => ({
        ...hrr,
        extensions: [...hrr.extensions.filter((e) => e.type !== 'cookie'), { type: 'key_share_hrr', selectedGroup: NamedGroup.x25519 }],
      })),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'RetryForSentShare');
  });
});

describe('0-RTT and early data are refused', () => {
  /** A client that offers early_data and sends 0-RTT records encrypted under client_early_traffic_secret. */
  async function earlyDataPair(opts: { earlyBytes: number; withSession: boolean; server?: PairOptions['server'] }) {
    const { first, session } = await fullThenSession();
    let sent = false;
    const p = pair({
      store: first.store,
      env: first.env,
      client: opts.withSession ? { session } : {},
      server: opts.server ?? {},
      clientMachine: clientHelloProbe((ch) => {
        const exts = [...ch.extensions];
        exts.splice(exts.length - (opts.withSession ? 1 : 0), 0, { type: 'early_data' });
        return { ...ch, extensions: exts };
      }),
      tamper: (dir, bytes) => {
        if (dir !== 'toServer' || sent) return [bytes];
        sent = true;
        const suite = suiteInfo(session.suite)!;
        const early = EarlySecret.create(suite, session.psk, nobleProvider);
        const [rec] = records(bytes);
        const secret = early.clientEarlyTrafficSecret(transcriptHash(suite.hash, [rec!.body], nobleProvider));
        const protector = new RecordProtector(suite, trafficKeys(suite, secret, nobleProvider), nobleProvider);
        const out = [bytes];
        for (let left = opts.earlyBytes; left > 0; left -= 1000) out.push(protector.protect(23, utf8('x'.repeat(Math.min(1000, left)))));
        return out;
      },
    });
    await p.run();
    return p;
  }

  it('ignores early_data: no early_data in EncryptedExtensions, 0-RTT records skipped, nothing reaches the application', async () => {
    const p = await earlyDataPair({ earlyBytes: 5000, withSession: true });
    expect(p.server.state).toBe('connected');
    const ee = p.clientTrace.find((e) => e.kind === 'message' && e.msg?.type === 'encrypted_extensions');
    if (ee?.kind !== 'message' || ee.msg?.type !== 'encrypted_extensions') throw new Error('no EE');
    expect(findExtension(ee.msg.extensions, 'early_data')).toBeUndefined();
    expect(p.serverTrace.filter((e) => e.kind === 'earlyDataSkipped')).toHaveLength(5);
    expect(p.received.server).toHaveLength(0);
  });

  it('fails with bad_record_mac once more than 16384 bytes of 0-RTT data were skipped', async () => {
    const p = await earlyDataPair({ earlyBytes: 20_000, withSession: true });
    expect(p.server.state).toBe('failed');
    expect(p.server.error?.alert).toBe('bad_record_mac');
    expect(p.received.server).toHaveLength(0);
  });

  it('skips 0-RTT records sent with the first ClientHello when it answers with a HelloRetryRequest (RFC 8446 §4.2.10)', async () => {
    const p = await earlyDataPair({ earlyBytes: 5000, withSession: true, server: { forceHelloRetry: true } });
    expect(p.server.state).toBe('connected');
    expect(p.client.state).toBe('connected');
    expect(p.serverTrace.filter((e) => e.kind === 'earlyDataSkipped')).toHaveLength(5);
    expect(p.received.server).toHaveLength(0);
  });

  it('after a HelloRetryRequest too, fails with bad_record_mac once more than 16384 bytes of 0-RTT data were skipped', async () => {
    const p = await earlyDataPair({ earlyBytes: 20_000, withSession: true, server: { forceHelloRetry: true } });
    expectFailure(p, 'server', 'bad_record_mac', 'EarlyDataLimitExceeded');
    expect(p.received.server).toHaveLength(0);
  });

  it('fails with bad_record_mac for 0-RTT records that arrive after the second ClientHello', async () => {
    const { first, session } = await fullThenSession();
    const suite = suiteInfo(session.suite)!;
    let hellos = 0;
    const p = pair({
      store: first.store,
      env: first.env,
      client: { session },
      server: { forceHelloRetry: true },
      tamper: (dir, bytes) => {
        if (dir !== 'toServer' || records(bytes)[0]?.type !== 22 || ++hellos !== 2) return [bytes];
        // Early data keyed to the first ClientHello, sent after the second: the server reads it under its handshake key.
        const secret = EarlySecret.create(suite, session.psk, nobleProvider).clientEarlyTrafficSecret(new Uint8Array(suite.hashLen));
        const protector = new RecordProtector(suite, trafficKeys(suite, secret, nobleProvider), nobleProvider);
        return [bytes, protector.protect(23, utf8('late 0-RTT'))];
      },
    });
    await p.run();
    expectFailure(p, 'server', 'bad_record_mac', 'BadRecordMac');
    expect(p.received.server).toHaveLength(0);
  });

  it('rejects EndOfEarlyData with unexpected_message', async () => {
    const eoed = encodeHandshake({ type: 'end_of_early_data' });
    const p = pair({ clientMachine: clientFlightProbe(insertBefore('finished', eoed)) });
    await p.run();
    expectFailure(p, 'server', 'unexpected_message', 'UnexpectedMessage');
  });

  it('client rejects early_data in EncryptedExtensions it did not offer with unsupported_extension', async () => {
    const p = pair({
      serverMachine: serverFlightProbe(
        mapMessage('encrypted_extensions', (raw) =>
          rewriteMessage<EncryptedExtensions>(raw, (ee) => ({ ...ee, extensions: [...ee.extensions, { type: 'early_data' }] })),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'unsupported_extension', 'UnofferedEarlyData');
  });

  it('never sends max_early_data_size in a ticket; a client ignores one if a server sends it', async () => {
    const p = pair({
      serverMachine: ticketProbe((cmds) =>
        cmds.map((c) =>
          c.kind === 'storeTicket'
            ? {
                ...c,
                raw: rewriteMessage(c.raw, (n) =>
                  n.type === 'new_session_ticket' ? { ...n, extensions: [{ type: 'early_data_ticket', maxEarlyDataSize: 1024 }] } : n,
                ),
              }
            : c,
        ),
      ),
    });
    await p.run();
    expect(p.client.state).toBe('connected');
    expect(p.sessions).toHaveLength(2);
    expect(p.sessions.every((s) => !('maxEarlyData' in s))).toBe(true);
  });
});

describe('tampering is detected with the exact alert', () => {
  it('client rejects a server Finished with a flipped bit with decrypt_error', async () => {
    const p = pair({ serverMachine: serverFlightProbe(mapMessage('finished', flipLastBit)) });
    await p.run();
    expectFailure(p, 'client', 'decrypt_error', 'BadFinished');
  });

  it('server rejects a client Finished with a flipped bit with decrypt_error', async () => {
    const p = pair({ clientMachine: clientFlightProbe(mapMessage('finished', flipLastBit)) });
    await p.run();
    expectFailure(p, 'server', 'decrypt_error', 'BadFinished');
  });

  it('client rejects a CertificateVerify with a bad signature with decrypt_error', async () => {
    const p = pair({ serverMachine: serverFlightProbe(mapMessage('certificate_verify', flipLastBit)) });
    await p.run();
    expectFailure(p, 'client', 'decrypt_error', 'BadSignature');
  });

  it('client rejects a CertificateVerify whose scheme does not fit the key with illegal_parameter', async () => {
    const p = pair({
      serverMachine: serverFlightProbe(
        mapMessage('certificate_verify', (raw) =>
          rewriteMessage(raw, (cv) => (cv.type === 'certificate_verify' ? { ...cv, algorithm: 0x0807 } : cv)),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'UnofferedSignatureScheme');
  });

  it("client refuses a certificate it cannot trust with the validator's alert", async () => {
    const p = pair({ client: { verifyServerChain: chainVerifier({ ca: [], purpose: 'server', serverName: 'localhost' }) } });
    await p.run();
    expectFailure(p, 'client', 'unknown_ca', 'UnknownCa');
    const q = pair({
      client: {
        serverName: 'wrong.example',
        verifyServerChain: chainVerifier({ ca: identity.certPem, purpose: 'server', serverName: 'wrong.example' }),
      },
    });
    await q.run();
    expectFailure(q, 'client', 'bad_certificate', 'HostnameMismatch');
  });

  it('client refuses an empty server Certificate with decode_error', async () => {
    const p = pair({
      serverMachine: serverFlightProbe(
        mapMessage('certificate', (raw) => rewriteMessage<Certificate>(raw, (c) => ({ ...c, entries: [] }))),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'decode_error', 'EmptyCertificate');
  });

  it('rejects a ClientHello that offers only TLS 1.2 with protocol_version', async () => {
    const p = pair({
      tamper: tamperClientHello((ch) => ({
        ...ch,
        extensions: mapExt(ch.extensions, 'supported_versions_client', () => ({ type: 'supported_versions_client', versions: [0x0303] })),
      })),
    });
    await p.run();
    expectFailure(p, 'server', 'protocol_version', 'NoTls13');
  });

  it('refuses a ClientHello whose legacy_version is below 0x0303 with protocol_version, whatever supported_versions says (Appendix D.5)', async () => {
    // The eight versions tlsfuzzer's test-tls13-legacy-version.py sends: (3,0) is SSL 3.0.
    for (const legacyVersion of [0x0300, 0x0000, 0x0200, 0x0002, 0x0100, 0x0103, 0x0102, 0x0001, 0x0302]) {
      const p = pair({ tamper: tamperClientHello((ch) => ({ ...ch, legacyVersion })) });
      await p.run();
      expectFailure(p, 'server', 'protocol_version', 'LegacyVersion');
    }
  });

  it('accepts a ClientHello whose legacy_version is above 0x0303: supported_versions decides (§4.2.1)', async () => {
    const p = pair({ tamper: tamperClientHello((ch) => ({ ...ch, legacyVersion: 0x0304 })) });
    await p.run();
    // The server negotiates TLS 1.3; the client's transcript holds its own hello, so the handshake then fails on Finished.
    const sh = p.serverTrace.find((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'server_hello');
    expect(sh).toBeDefined();
    expect(p.server.error?.reason).not.toBe('LegacyVersion');
  });

  it('client rejects a ServerHello whose legacy_version is not 0x0303 with protocol_version', async () => {
    for (const legacyVersion of [0x0304, 0x0302, 0x0300]) {
      const p = pair({ tamper: tamperServerHello((sh) => ({ ...sh, legacyVersion })) });
      await p.run();
      expectFailure(p, 'client', 'protocol_version', 'ServerHelloLegacyVersion');
    }
  });

  it('client rejects a TLS 1.2 ServerHello (no supported_versions) with protocol_version', async () => {
    const p = pair({ tamper: tamperServerHello((sh) => ({ ...sh, extensions: withoutExt(sh.extensions, 'supported_versions_server') })) });
    await p.run();
    expectFailure(p, 'client', 'protocol_version', 'NoTls13');
  });

  it('client rejects a ServerHello with an altered session id echo, suite or group with illegal_parameter', async () => {
    const cases: Array<[(sh: Omit<ServerHello, 'raw'>) => Omit<ServerHello, 'raw'>, string]> = [
      [(sh) => ({ ...sh, legacySessionIdEcho: new Uint8Array(32) }), 'SessionIdMismatch'],
      [(sh) => ({ ...sh, cipherSuite: 0x00ff }), 'UnofferedCipherSuite'],
      [
        (sh) => ({
          ...sh,
          extensions: mapExt(sh.extensions, 'key_share_server', (e) =>
            e.type === 'key_share_server' ? { ...e, share: { ...e.share, group: NamedGroup.secp256r1 } } : e,
          ),
        }),
        'UnofferedGroup',
      ],
      [
        (sh) => ({
          ...sh,
          extensions: mapExt(sh.extensions, 'key_share_server', (e) =>
            e.type === 'key_share_server' ? { ...e, share: { ...e.share, keyExchange: new Uint8Array(32) } } : e,
          ),
        }),
        'InvalidKeyShare',
      ],
      [(sh) => ({ ...sh, extensions: [...sh.extensions, { type: 'cookie', cookie: new Uint8Array([1]) }] }), 'ExtensionNotAllowed'],
    ];
    for (const [f, reason] of cases) {
      const p = pair({ tamper: tamperServerHello(f) });
      await p.run();
      expectFailure(p, 'client', 'illegal_parameter', reason);
    }
    const q = pair({ tamper: tamperServerHello((sh) => ({ ...sh, extensions: withoutExt(sh.extensions, 'key_share_server') })) });
    await q.run();
    expectFailure(q, 'client', 'missing_extension', 'MissingKeyShare');
  });

  it('server rejects malformed ClientHellos with the alert RFC 8446 names', async () => {
    const cases: Array<[(ch: Omit<ClientHello, 'raw'>) => Omit<ClientHello, 'raw'>, string, string]> = [
      [(ch) => ({ ...ch, legacyCompressionMethods: new Uint8Array([1, 0]) }), 'illegal_parameter', 'Compression'],
      [(ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'key_share_client') }), 'missing_extension', 'GroupsWithoutKeyShare'],
      [
        (ch) => ({ ...ch, extensions: withoutExt(withoutExt(ch.extensions, 'key_share_client'), 'supported_groups') }),
        'missing_extension',
        'NoKeyShare',
      ],
      [(ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'signature_algorithms') }), 'missing_extension', 'NoSignatureAlgorithms'],
      [(ch) => ({ ...ch, cipherSuites: [0x00ff] }), 'handshake_failure', 'NoCommonCipherSuite'],
      [
        (ch) => ({
          ...ch,
          extensions: mapExt(ch.extensions, 'signature_algorithms', () => ({ type: 'signature_algorithms', schemes: [0x0201] })),
        }),
        'handshake_failure',
        'NoCertificate',
      ],
      [
        (ch) => ({
          ...ch,
          extensions: mapExt(ch.extensions, 'key_share_client', (e) =>
            e.type === 'key_share_client' ? { ...e, shares: [{ group: NamedGroup.x25519, keyExchange: new Uint8Array(32) }] } : e,
          ),
        }),
        'illegal_parameter',
        'InvalidKeyShare',
      ],
      [
        (ch) => ({
          ...ch,
          extensions: mapExt(ch.extensions, 'supported_groups', () => ({ type: 'supported_groups', groups: [NamedGroup.secp256r1] })),
        }),
        'illegal_parameter',
        'ShareForUnlistedGroup',
      ],
      [
        (ch) => ({ ...ch, extensions: mapExt(ch.extensions, 'supported_groups', () => ({ type: 'supported_groups', groups: [0x0100] })) }),
        'illegal_parameter',
        'ShareForUnlistedGroup',
      ],
    ];
    for (const [f, alert, reason] of cases) {
      const p = pair({ tamper: tamperClientHello(f) });
      await p.run();
      expectFailure(p, 'server', alert, reason);
    }
  });

  it('rejects a ClientHello whose pre_shared_key is not last with illegal_parameter', async () => {
    const p = await resumingPair({
      tamper: (dir, bytes) => {
        if (dir !== 'toServer' || bytes[5] !== 1) return [bytes];
        // move the last extension (pre_shared_key) in front of the others, keeping all bytes
        const body = records(bytes)[0]!.body;
        const d = decodeHandshake(body);
        if (!d.ok || d.value.type !== 'client_hello') throw new Error('bad hello');
        const extStart = body.length - extensionsLength(d.value);
        const exts: Uint8Array[] = [];
        for (let i = extStart; i < body.length; ) {
          const len = ((body[i + 2] as number) << 8) | (body[i + 3] as number);
          exts.push(body.slice(i, i + 4 + len));
          i += 4 + len;
        }
        const reordered = [exts.at(-1)!, ...exts.slice(0, -1)];
        const out = body.slice();
        let o = extStart;
        for (const e of reordered) {
          out.set(e, o);
          o += e.length;
        }
        const r = record(22, out, 0x0301);
        return [r];
      },
    });
    await p.run();
    expect(p.server.state).toBe('failed');
    expect(p.server.error?.alert).toBe('illegal_parameter');
    expect(p.client.error?.alert).toBe('illegal_parameter');
  });

  it('rejects a second ChangeCipherSpec and one before the ClientHello with unexpected_message', async () => {
    const ccs = new Uint8Array([20, 3, 3, 0, 1, 1]);
    const p = pair({ tamper: (dir, bytes, i) => (dir === 'toClient' && i === 1 ? [bytes, ccs] : [bytes]) });
    await p.run();
    expectFailure(p, 'client', 'unexpected_message', 'UnexpectedChangeCipherSpec');
    const env = seededEnvironment('ccs-first');
    const q = pair({ env });
    await q.server.receive(ccs);
    expect(q.server.state).toBe('failed');
    expect(q.server.error?.reason).toBe('UnexpectedChangeCipherSpec');
  });

  it("fails with the peer's alert when the peer sends a fatal alert, and ignores user_canceled", async () => {
    const p = pair({});
    await p.run();
    await p.client.receive(new Uint8Array([21, 3, 3, 0, 2, 1, 90])); // plaintext user_canceled after keys: refused by the record layer
    expect(p.client.state).toBe('failed');
    expect(p.client.error?.alert).toBe('unexpected_message');
  });
});

describe('client authentication', () => {
  let clientId: TestIdentity;
  beforeAll(async () => {
    clientId = await makeIdentity('ed25519', ['client.example']);
  });
  const serverAuth = () => ({
    requestClientCertificate: true,
    verifyClientChain: chainVerifier({ ca: clientId.certPem, purpose: 'client' }),
  });

  it('authenticates the client in a full handshake and keeps its identity across resumption', async () => {
    const first = pair({ client: { clientCertificate: clientId.certified }, server: serverAuth() });
    await first.run();
    expect(first.server.state).toBe('connected');
    expect(names(first.clientTrace, 'out')).toEqual(['client_hello', 'certificate', 'certificate_verify', 'finished']);
    expect(first.server.info?.peerCertificates).toEqual(clientId.certified.chain);
    expect(first.server.context.clientSignature).toBeDefined();
    const p = pair({
      store: first.store,
      env: first.env,
      client: { clientCertificate: clientId.certified, session: first.sessions[0]! },
      server: serverAuth(),
    });
    await p.run();
    expect(p.server.info?.resumed).toBe(true);
    expect(names(p.serverTrace, 'out')).not.toContain('certificate_request');
    expect(p.server.info?.peerCertificates).toEqual(clientId.certified.chain);
  });

  it('accepts an empty client Certificate when not required, refuses it with certificate_required when required', async () => {
    const p = pair({ server: serverAuth() });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(names(p.clientTrace, 'out')).toEqual(['client_hello', 'certificate', 'finished']);
    const q = pair({ server: { ...serverAuth(), requireClientCertificate: true } });
    await q.run();
    expectFailure(q, 'server', 'certificate_required', 'NoClientCertificate');
  });

  it('rejects an untrusted client certificate and a bad client signature', async () => {
    const p = pair({
      client: { clientCertificate: clientId.certified },
      server: { ...serverAuth(), verifyClientChain: chainVerifier({ ca: identity.certPem, purpose: 'client' }) },
    });
    await p.run();
    expectFailure(p, 'server', 'unknown_ca', 'UnknownCa');
    const q = pair({
      client: { clientCertificate: clientId.certified },
      server: serverAuth(),
      clientMachine: clientFlightProbe(mapMessage('certificate_verify', flipLastBit)),
    });
    await q.run();
    expectFailure(q, 'server', 'decrypt_error', 'BadSignature');
  });
});

describe('every named refusal has its exact alert', () => {
  /** Rewrite the n-th ClientHello (1-based) the client sends. */
  function tamperNthClientHello(n: number, fn: (ch: Omit<ClientHello, 'raw'>, first: ClientHello | undefined) => Omit<ClientHello, 'raw'>) {
    let count = 0;
    let first: ClientHello | undefined;
    return (dir: 'toServer' | 'toClient', bytes: Uint8Array): Uint8Array[] => {
      if (dir !== 'toServer') return [bytes];
      return records(bytes).map((rec) => {
        if (rec.type !== 22 || rec.body[0] !== 1) return record(rec.type, rec.body);
        count++;
        const d = decodeHandshake(rec.body);
        if (!d.ok || d.value.type !== 'client_hello') throw new Error('bad hello');
        if (count === 1) first = d.value;
        return count === n
          ? record(
              22,
              rewriteMessage<ClientHello>(rec.body, (ch) => fn(ch, first)),
            )
          : record(rec.type, rec.body);
      });
    };
  }

  it('server rejects early_data in the second ClientHello with illegal_parameter', async () => {
    const p = pair({
      server: { forceHelloRetry: true },
      tamper: tamperNthClientHello(2, (ch) => ({ ...ch, extensions: [...ch.extensions, { type: 'early_data' }] })),
    });
    await p.run();
    expectFailure(p, 'server', 'illegal_parameter', 'EarlyDataAfterRetry');
  });

  it('server rejects a second ClientHello that changes anything a HelloRetryRequest does not allow with illegal_parameter (§4.1.2)', async () => {
    const cases: Array<[string, (ch: Omit<ClientHello, 'raw'>) => Omit<ClientHello, 'raw'>]> = [
      ['random', (ch) => ({ ...ch, random: new Uint8Array(32).fill(7) })],
      ['legacy_session_id', (ch) => ({ ...ch, legacySessionId: new Uint8Array(32).fill(9) })],
      ['cipher_suites', (ch) => ({ ...ch, cipherSuites: [...ch.cipherSuites].reverse() })],
      [
        'supported_groups',
        (ch) => ({
          ...ch,
          extensions: mapExt(ch.extensions, 'supported_groups', (e) =>
            e.type === 'supported_groups' ? { ...e, groups: [...e.groups].reverse() } : e,
          ),
        }),
      ],
      [
        'signature_algorithms',
        (ch) => ({
          ...ch,
          extensions: mapExt(ch.extensions, 'signature_algorithms', () => ({ type: 'signature_algorithms', schemes: [0x0403] })),
        }),
      ],
      ['an added extension', (ch) => ({ ...ch, extensions: [{ type: 'alpn', protocols: ['h2'] }, ...ch.extensions] })],
      ['a removed extension', (ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'server_name') })],
      // A cookie-only retry asked for no group: the key shares must stay as they were.
      [
        'key_share without a requested group',
        (ch) => ({ ...ch, extensions: mapExt(ch.extensions, 'key_share_client', () => ({ type: 'key_share_client', shares: [] })) }),
      ],
    ];
    for (const [what, change] of cases) {
      const p = pair({ server: { forceHelloRetry: true }, tamper: tamperNthClientHello(2, change) });
      await p.run();
      expect(p.server.error?.reason, what).toBe('SecondHelloChanged');
      expectFailure(p, 'server', 'illegal_parameter', 'SecondHelloChanged');
    }
  });

  it('server accepts a second ClientHello that only adds padding or drops a PSK identity (§4.1.2)', async () => {
    const padded = pair({
      server: { forceHelloRetry: true },
      tamper: tamperNthClientHello(2, (ch) => ({
        ...ch,
        extensions: [{ type: 'unknown', code: 21, data: new Uint8Array(40) }, ...ch.extensions],
      })),
    });
    await padded.run();
    // The server goes on to its flight; only the client, whose transcript lacks the padding, fails later.
    expect(names(padded.serverTrace, 'out')).toContain('finished');
    expect(padded.server.error?.reason).not.toBe('SecondHelloChanged');
    const { first, session } = await fullThenSession();
    const dropped = pair({
      store: first.store,
      env: first.env,
      client: { session },
      server: { forceHelloRetry: true },
      tamper: tamperNthClientHello(2, (ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'pre_shared_key_client') })),
    });
    await dropped.run();
    expect(names(dropped.serverTrace, 'out')).toContain('certificate');
    expect(dropped.server.context.resumed).toBe(false);
    expect(dropped.server.error?.reason).not.toBe('SecondHelloAddedPsk');
  });

  it('server rejects a second ClientHello that offers a PSK the first did not with illegal_parameter (§4.1.2)', async () => {
    const { first, session } = await fullThenSession();
    const p = pair({
      store: first.store,
      env: first.env,
      client: { session },
      server: { forceHelloRetry: true },
      tamper: tamperNthClientHello(1, (ch) => ({ ...ch, extensions: withoutExt(ch.extensions, 'pre_shared_key_client') })),
    });
    await p.run();
    expectFailure(p, 'server', 'illegal_parameter', 'SecondHelloAddedPsk');
    // The ticket the refused hello offered is still in the store (nothing was taken).
    expect(await first.store.get(session.ticket)).toBeDefined();
  });

  it('server rejects a second ClientHello whose share is not for the requested group with illegal_parameter', async () => {
    // The retry asks for x25519 (the server's only group); the second hello resends the first one's secp384r1 share.
    const q = pair({
      client: { groups: [NamedGroup.secp384r1, NamedGroup.x25519], keyShareGroups: [NamedGroup.secp384r1] },
      server: { groups: [NamedGroup.x25519] },
      tamper: tamperNthClientHello(2, (ch, first) => ({
        ...ch,
        extensions: mapExt(ch.extensions, 'key_share_client', () => findExtension(first!.extensions, 'key_share_client')!),
      })),
    });
    await q.run();
    expectFailure(q, 'server', 'illegal_parameter', 'WrongRetryShare');
  });

  it('client rejects a HelloRetryRequest that would change nothing with illegal_parameter', async () => {
    const p = pair({
      server: { forceHelloRetry: true },
      tamper: tamperServerHello((hrr) => ({ ...hrr, extensions: withoutExt(hrr.extensions, 'cookie') })),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'HelloRetryChangesNothing');
  });

  it('client rejects a ServerHello that selects TLS 1.2 in supported_versions with illegal_parameter', async () => {
    const p = pair({
      tamper: tamperServerHello((sh) => ({
        ...sh,
        extensions: mapExt(sh.extensions, 'supported_versions_server', () => ({ type: 'supported_versions_server', version: 0x0303 })),
      })),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'UnofferedVersion');
  });

  it('client rejects an ALPN protocol it did not offer with illegal_parameter', async () => {
    const p = pair({
      client: { alpnProtocols: ['h2'] },
      serverMachine: serverFlightProbe(
        mapMessage('encrypted_extensions', (raw) =>
          rewriteMessage<EncryptedExtensions>(raw, (ee) => ({
            ...ee,
            extensions: [...ee.extensions, { type: 'alpn', protocols: ['spdy/1'] }],
          })),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'UnofferedAlpn');
  });

  it('client rejects a CertificateRequest without signature_algorithms with missing_extension', async () => {
    const p = pair({
      server: { requestClientCertificate: true, verifyClientChain: chainVerifier({ ca: identity.certPem, purpose: 'client' }) },
      serverMachine: serverFlightProbe(
        mapMessage('certificate_request', (raw) =>
          rewriteMessage(raw, (cr) =>
            cr.type === 'certificate_request' ? { ...cr, extensions: [{ type: 'unknown', code: 0x7a7a, data: new Uint8Array(0) }] } : cr,
          ),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'missing_extension', 'MissingSignatureAlgorithms');
  });

  it('server without a client-certificate verifier refuses a client certificate with bad_certificate', async () => {
    const p = pair({ client: { clientCertificate: identity.certified }, server: { requestClientCertificate: true } });
    await p.run();
    expectFailure(p, 'server', 'bad_certificate', 'NoClientVerifier');
  });

  it('server refuses a client with no key exchange group in common with handshake_failure', async () => {
    const p = pair({ client: { groups: [NamedGroup.secp256r1], keyShareGroups: [] }, server: { groups: [NamedGroup.x25519] } });
    await p.run();
    expectFailure(p, 'server', 'handshake_failure', 'NoCommonGroup');
  });

  it('server machine refuses, by itself, identity/binder counts that differ and duplicate shares (the codec already does)', async () => {
    const { first, session } = await fullThenSession();
    const hello = await new Promise<ClientHello>((resolve) => {
      const q = pair({ store: first.store, env: first.env, client: { session } });
      q.client.on('output', (b) => {
        const d = decodeHandshake(records(b)[0]!.body);
        if (d.ok && d.value.type === 'client_hello') resolve(d.value);
      });
    });
    const psk = findExtension(hello.extensions, 'pre_shared_key_client')!;
    const share = findExtension(hello.extensions, 'key_share_client')!;
    const cases: Array<[Extension[], string]> = [
      [mapExt(hello.extensions, 'pre_shared_key_client', () => ({ ...psk, binders: [] })), 'BinderCountMismatch'],
      [mapExt(hello.extensions, 'key_share_client', () => ({ ...share, shares: [...share.shares, ...share.shares] })), 'DuplicateKeyShare'],
    ];
    for (const [extensions, reason] of cases) {
      const p = pair({});
      await p.server.inject({ type: 'recv.ClientHello', msg: { ...hello, extensions }, tickets: [] });
      expect(p.server.state).toBe('failed');
      expect(p.server.error).toMatchObject({ alert: 'illegal_parameter', reason });
    }
  });
});

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** Replace the last extension of an encoded ClientHello, fixing every enclosing length. */
function replaceLastExtension(raw: Uint8Array, ext: Uint8Array): Uint8Array {
  const d = decodeHandshake(raw);
  if (!d.ok || d.value.type !== 'client_hello') throw new Error('bad hello');
  const extStart = raw.length - extensionsLength(d.value);
  let i = extStart;
  let last = i;
  while (i < raw.length) {
    last = i;
    i += 4 + (((raw[i + 2] as number) << 8) | (raw[i + 3] as number));
  }
  const out = new Uint8Array(last + ext.length);
  out.set(raw.slice(0, last));
  out.set(ext, last);
  const extLen = out.length - extStart;
  out[extStart - 2] = (extLen >> 8) & 0xff;
  out[extStart - 1] = extLen & 0xff;
  const bodyLen = out.length - 4;
  out[1] = (bodyLen >> 16) & 0xff;
  out[2] = (bodyLen >> 8) & 0xff;
  out[3] = bodyLen & 0xff;
  return out;
}

describe('more failure branches, each with its exact alert', () => {
  let clientId: TestIdentity;
  beforeAll(async () => {
    clientId = await makeIdentity('ecdsa-p384', ['client.example']);
  });
  const serverAuth = () => ({
    requestClientCertificate: true,
    verifyClientChain: chainVerifier({ ca: clientId.certPem, purpose: 'client' }),
  });

  it('the server closes first; the client closes its side after reading everything', async () => {
    const p = pair({});
    await p.run();
    await p.server.close();
    await p.run();
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
    await p.client.close();
    await p.run();
    expect([p.client.state, p.server.state]).toEqual(['closed', 'closed']);
  });

  it('user_canceled is noted and the connection goes on, during and after the handshake', async () => {
    const p = pair({});
    await p.client.inject({ type: 'recv.Alert', level: 1, description: 90 });
    await p.server.inject({ type: 'recv.Alert', level: 1, description: 90 });
    await p.run();
    await p.client.inject({ type: 'recv.Alert', level: 1, description: 90 });
    await p.server.inject({ type: 'recv.Alert', level: 1, description: 90 });
    await p.client.write(utf8('still here'));
    await p.run();
    expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
    expect(new TextDecoder().decode(p.received.server[0])).toBe('still here');
  });

  it("client rejects a ServerHello after a retry whose suite differs from the retry's with illegal_parameter", async () => {
    let hellos = 0;
    const p = pair({
      server: { forceHelloRetry: true },
      tamper: (dir, bytes) => {
        if (dir !== 'toClient' || bytes[0] !== 22 || ++hellos !== 2) return [bytes];
        const [rec, ...rest] = records(bytes);
        const raw = rewriteMessage<ServerHello>(rec!.body, (sh) => ({ ...sh, cipherSuite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256 }));
        const r = record(22, raw, 0x0303);
        void rest;
        return [r];
      },
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'SuiteChangedAfterRetry');
  });

  it('client rejects an ALPN it did not offer with unsupported_extension', async () => {
    const p = pair({
      serverMachine: serverFlightProbe(
        mapMessage('encrypted_extensions', (raw) =>
          rewriteMessage<EncryptedExtensions>(raw, (ee) => ({
            ...ee,
            extensions: [...ee.extensions, { type: 'alpn', protocols: ['h2'] }],
          })),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'unsupported_extension', 'UnsolicitedExtension');
  });

  it('client rejects a CertificateRequest with a non-empty context with illegal_parameter', async () => {
    const p = pair({
      server: serverAuth(),
      serverMachine: serverFlightProbe(
        mapMessage('certificate_request', (raw) =>
          rewriteMessage(raw, (cr) => (cr.type === 'certificate_request' ? { ...cr, certificateRequestContext: new Uint8Array([1]) } : cr)),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'illegal_parameter', 'CertificateRequestContext');
  });

  it('client checks the server Certificate after a CertificateRequest: empty → decode_error, untrusted → unknown_ca', async () => {
    const p = pair({
      server: serverAuth(),
      serverMachine: serverFlightProbe(
        mapMessage('certificate', (raw) => rewriteMessage<Certificate>(raw, (c) => ({ ...c, entries: [] }))),
      ),
    });
    await p.run();
    expectFailure(p, 'client', 'decode_error', 'EmptyCertificate');
    const q = pair({ server: serverAuth(), client: { verifyServerChain: chainVerifier({ ca: clientId.certPem, purpose: 'server' }) } });
    await q.run();
    expectFailure(q, 'client', 'unknown_ca', 'UnknownCa');
  });

  it('server asks for a client certificate after a HelloRetryRequest too', async () => {
    const p = pair({ server: { ...serverAuth(), forceHelloRetry: true }, client: { clientCertificate: clientId.certified } });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(p.server.info?.peerCertificates).toEqual(clientId.certified.chain);
  });

  it('server rejects a client Certificate with a context it never sent with illegal_parameter', async () => {
    const p = pair({
      server: serverAuth(),
      client: { clientCertificate: clientId.certified },
      clientMachine: clientFlightProbe(
        mapMessage('certificate', (raw) =>
          rewriteMessage<Certificate>(raw, (c) => ({ ...c, certificateRequestContext: new Uint8Array([9]) })),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'server', 'illegal_parameter', 'CertificateContext');
  });

  it('server rejects a client CertificateVerify whose scheme does not fit the key with illegal_parameter', async () => {
    const p = pair({
      server: serverAuth(),
      client: { clientCertificate: clientId.certified },
      clientMachine: clientFlightProbe(
        mapMessage('certificate_verify', (raw) =>
          rewriteMessage(raw, (cv) => (cv.type === 'certificate_verify' ? { ...cv, algorithm: 0x0403 } : cv)),
        ),
      ),
    });
    await p.run();
    expectFailure(p, 'server', 'illegal_parameter', 'UnofferedSignatureScheme');
  });
});

function extensionsLength(ch: ClientHello): number {
  // The extensions block is the tail of the message after the 2-byte length.
  const raw = ch.raw;
  let i = 4 + 2 + 32;
  i += 1 + (raw[i] as number);
  i += 2 + (((raw[i] as number) << 8) | (raw[i + 1] as number));
  i += 1 + (raw[i] as number);
  return raw.length - (i + 2);
}

describe('limits on what a peer can make us do after the handshake', () => {
  it('answers any number of update_requested received while no application data flows with a single KeyUpdate (RFC 8446 §4.6.3)', async () => {
    const p = pair({});
    await p.run();
    for (let i = 0; i < 5; i++) await p.client.keyUpdate(true);
    await p.run();
    expect(p.server.context.readGeneration).toBe(5);
    expect(p.server.context.writeGeneration).toBe(1);
    // Once the server has written, the next request gets an answer of its own.
    await p.server.write(utf8('hello'));
    await p.client.keyUpdate(true);
    await p.run();
    expect(p.server.context.writeGeneration).toBe(2);
    // Data from the client also ends the run of requests.
    await p.client.write(utf8('ping'));
    await p.client.keyUpdate(true);
    await p.run();
    expect(p.server.context.writeGeneration).toBe(3);
    expect(p.client.context.readGeneration).toBe(3);
    expect(new TextDecoder().decode(p.received.client.at(-1))).toBe('hello');
  });

  it('accepts 32 KeyUpdates in a row and refuses the 33rd with unexpected_message (TooManyKeyUpdates)', async () => {
    const p = pair({});
    await p.run();
    for (let i = 0; i < 32; i++) await p.client.keyUpdate(true);
    await p.run();
    expect(p.server.state).toBe('connected');
    await p.client.keyUpdate(false);
    await p.run();
    expectFailure(p, 'server', 'unexpected_message', 'TooManyKeyUpdates');
  });

  it('counts KeyUpdates only until application data arrives, and takes its limit from the configuration', async () => {
    const p = pair({ client: { limits: { maxKeyUpdates: 2 } } });
    await p.run();
    await p.server.keyUpdate(false);
    await p.server.keyUpdate(false);
    await p.server.write(utf8('data'));
    await p.server.keyUpdate(false);
    await p.server.keyUpdate(false);
    await p.run();
    expect(p.client.state).toBe('connected');
    // An empty record is not application data that ends the run.
    await p.server.write(new Uint8Array(0));
    await p.server.keyUpdate(false);
    await p.run();
    expectFailure(p, 'client', 'unexpected_message', 'TooManyKeyUpdates');
  });
});

describe('transition coverage of both statecharts', () => {
  it("takes every state and every transition, including each guard's failure branch", () => {
    const c = clientCoverage.report(clientMachine);
    const s = serverCoverage.report(serverMachine);
    console.log(
      `client chart: ${c.states.visited}/${c.states.total} states, ${c.transitions.taken}/${c.transitions.total} transitions (${c.percent.toFixed(1)} %)\n` +
        `server chart: ${s.states.visited}/${s.states.total} states, ${s.transitions.taken}/${s.transitions.total} transitions (${s.percent.toFixed(1)} %)`,
    );
    expect({ client: c.transitions.missing, server: s.transitions.missing }).toEqual({ client: [], server: [] });
    expect({ client: c.states.missing, server: s.states.missing }).toEqual({ client: [], server: [] });
  });
});
