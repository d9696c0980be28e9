/**
 * The trace of the audited client's side, built from what the probing
 * server saw: states inferred from the client's answers, a fatal alert put
 * on the message where the trace agrees with the client chart longest (the
 * earliest on a tie), guard outcomes the probing server knows (its own
 * Finished), and `trace check` finding the first place a client left the
 * chart.
 */
import { describe, expect, it } from 'vitest';
import { concat } from '../../crypto/bytes.js';
import { type SuiteInfo, suiteByName } from '../../crypto/suites.js';
import { checkTrace } from '../../traces/monitor.js';
import { decodeHandshake, encodeHandshake } from '../../wire/handshake.js';
import { type ClientHello, type Extension, type ServerHello, TLS12, TLS13 } from '../../wire/types.js';
import type { WireEvent } from '../probe/endpoint.js';
import { makeHello, offerTicket } from '../probe/hellos.js';
import { heldTicket } from '../testing/tickets.js';
import { clientTrace, type GuardTruth } from './trace.js';

const suite = suiteByName('TLS_AES_128_GCM_SHA256') as SuiteInfo;
const record = (type: number, len = 24) => concat(Uint8Array.of(type, 3, 3, 0, len), new Uint8Array(len));

const held = heldTicket({ suite });

/** A ClientHello offering one ticket with psk_dhe_ke, and the probing server's answers to it. */
function hello(): { ch: ClientHello; sh: (o: { psk?: number; share?: boolean }) => ServerHello } {
  const h = makeHello({ serverName: 'localhost', offers: [offerTicket(held)] });
  const d = decodeHandshake(h.raw);
  if (!d.ok || d.value.type !== 'client_hello') throw new Error('no hello');
  const ch = d.value;
  const share = h.keyShares[0];
  return {
    ch,
    sh: (o) => {
      const extensions: Extension[] = [{ type: 'supported_versions_server', version: TLS13 }];
      if (o.share !== false && share)
        extensions.push({ type: 'key_share_server', share: { group: share.group, keyExchange: share.publicKey } });
      if (o.psk !== undefined) extensions.push({ type: 'pre_shared_key_server', selectedIdentity: o.psk });
      return encodeHandshake<ServerHello>({
        type: 'server_hello',
        isHelloRetryRequest: false,
        legacyVersion: TLS12,
        random: new Uint8Array(32).fill(1),
        legacySessionIdEcho: ch.legacySessionId,
        cipherSuite: suite.code,
        legacyCompressionMethod: 0,
        extensions,
      });
    },
  };
}

const sent = (name: string, raw: Uint8Array, epoch: 'plaintext' | 'handshake' | 'application' = 'handshake'): WireEvent => ({
  dir: 'out',
  at: 0,
  kind: 'handshake',
  name,
  message: raw,
  epoch,
  records: record(epoch === 'plaintext' ? 22 : 23),
});
const ccs: WireEvent = { dir: 'out', at: 0, kind: 'change_cipher_spec', epoch: 'plaintext', records: record(20, 1) };
const got = (raw: Uint8Array, encrypted: boolean): WireEvent => {
  const d = decodeHandshake(raw);
  return {
    dir: 'in',
    at: 0,
    kind: 'handshake',
    raw,
    message: d.ok ? d.value : undefined,
    encrypted,
    records: [{ bytes: record(encrypted ? 23 : 22), epoch: encrypted ? 'handshake' : 'plaintext' }],
  };
};
const alert = (description: string, encrypted: boolean): WireEvent => ({
  dir: 'in',
  at: 0,
  kind: 'alert',
  level: 2,
  description,
  encrypted,
  records: [{ bytes: record(encrypted ? 23 : 21), epoch: encrypted ? 'handshake' : 'plaintext' }],
});
const clientEnd: WireEvent = { dir: 'in', at: 0, kind: 'end', reason: { kind: 'eof' } };
const ee = encodeHandshake({ type: 'encrypted_extensions', extensions: [] }).raw;
const certificate = encodeHandshake({
  type: 'certificate',
  certificateRequestContext: new Uint8Array(0),
  entries: [{ certData: new Uint8Array(40).fill(3), extensions: [] }],
}).raw;
const certificateVerify = encodeHandshake({ type: 'certificate_verify', algorithm: 0x0403, signature: new Uint8Array(64).fill(4) }).raw;
const finished = encodeHandshake({ type: 'finished', verifyData: new Uint8Array(32).fill(5) }).raw;

function trace(log: WireEvent[], truth: GuardTruth = {}) {
  const t = clientTrace(log, { target: 'test client', label: 'connection 2', scenario: 'test', description: 'test', startedAt: 0, truth });
  const side = t.handshakes[0]?.sides[0];
  if (!side) throw new Error('no side');
  const states = side.steps.filter((s) => s.direction === 'in').map((s) => `${s.message?.type ?? s.kind}:${s.stateAfter}`);
  return { t, side, states, check: checkTrace(t) };
}

describe('the trace of an audited client', () => {
  it("puts the client's unexpected_message on the Certificate after a PSK ServerHello, and conforms", () => {
    const h = hello();
    const { side, states, check } = trace([
      got(h.ch.raw, false),
      sent('server_hello', h.sh({ psk: 0 }).raw, 'plaintext'),
      ccs,
      sent('encrypted_extensions', ee),
      sent('certificate', certificate),
      sent('certificate_verify', certificateVerify),
      sent('finished', finished),
      alert('unexpected_message', true),
      clientEnd,
    ]);
    expect(states).toEqual([
      'server_hello:expectEncryptedExtensions',
      'change_cipher_spec:expectEncryptedExtensions',
      'encrypted_extensions:expectServerFinished',
      'certificate:failed',
      'certificate_verify:failed',
      'finished:failed',
    ]);
    expect(side.outcome).toMatchObject({ state: 'failed', alert: 'unexpected_message' });
    expect(side.steps[0]).toMatchObject({ direction: 'out', event: { id: 0, type: 'xstate.init' }, stateBefore: 'expectServerHello' });
    expect(check.conforms).toBe(true);
  });

  it('shows a client that accepts the Certificate after a PSK ServerHello leaving the chart there', () => {
    const h = hello();
    const clientFinished = got(finished, true);
    const { states, check } = trace([
      got(h.ch.raw, false),
      sent('server_hello', h.sh({ psk: 0 }).raw, 'plaintext'),
      ccs,
      sent('encrypted_extensions', ee),
      sent('certificate', certificate),
      sent('certificate_verify', certificateVerify),
      sent('finished', finished),
      clientFinished,
    ]);
    expect(states.at(-1)).toBe('finished:connected');
    expect(check.conforms).toBe(false);
    if (check.conforms) return;
    expect(check.violation).toMatchObject({
      role: 'client',
      state: 'expectServerFinished',
      message: 'certificate',
      alert: 'unexpected_message',
    });
    expect(check.violation.recorded).toMatch(/accepts it and goes on to expectCertificateVerify without an alert/);
  });

  it('records that the server Finished does not verify, so a client that goes on leaves the chart with decrypt_error', () => {
    const h = hello();
    const log = [
      got(h.ch.raw, false),
      sent('server_hello', h.sh({ psk: 0 }).raw, 'plaintext'),
      ccs,
      sent('encrypted_extensions', ee),
      sent('finished', finished),
      got(finished, true),
    ];
    const lax = trace(log, { serverFinishedValid: false });
    expect(lax.side.steps.find((s) => s.message?.type === 'finished' && s.direction === 'in')?.guards).toEqual([
      { guard: 'isServerFinishedValid', result: false },
    ]);
    expect(!lax.check.conforms && lax.check.violation).toMatchObject({
      state: 'expectServerFinished',
      message: 'finished',
      alert: 'decrypt_error',
    });
    // The same bytes with a valid Finished: the client was right to go on.
    expect(trace(log, { serverFinishedValid: true }).check.conforms).toBe(true);
  });

  it('puts a plaintext illegal_parameter on a ServerHello that selects an identity out of range, and conforms', () => {
    const h = hello();
    const { states, check, side } = trace([
      got(h.ch.raw, false),
      sent('server_hello', h.sh({ psk: 1 }).raw, 'plaintext'),
      alert('illegal_parameter', false),
      clientEnd,
    ]);
    expect(states).toEqual(['server_hello:failed']);
    expect(side.outcome).toMatchObject({ state: 'failed', alert: 'illegal_parameter' });
    expect(check.conforms).toBe(true);
  });

  it('reads another alert on the earliest message the chart refuses: the ServerHello without key_share, not the later ones', () => {
    const h = hello();
    const { states, check } = trace([
      got(h.ch.raw, false),
      sent('server_hello', h.sh({ psk: 0, share: false }).raw, 'plaintext'),
      ccs,
      sent('encrypted_extensions', ee),
      sent('finished', finished),
      alert('missing_extension', false),
      clientEnd,
    ]);
    expect(states[0]).toBe('server_hello:failed');
    expect(!check.conforms && check.violation).toMatchObject({
      state: 'expectServerHello',
      message: 'server_hello',
      alert: 'illegal_parameter',
      recorded: 'the trace aborts with missing_extension',
    });
  });

  it('ends a client that closes before its Finished where the chart would have: no alert, failed', () => {
    const h = hello();
    const { side } = trace([got(h.ch.raw, false), sent('server_hello', h.sh({ psk: 1 }).raw, 'plaintext'), clientEnd]);
    expect(side.outcome).toEqual({ state: 'failed' });
    expect(side.steps.filter((s) => s.direction === 'in').map((s) => s.stateAfter)).toEqual(['failed']);
  });
});
