/**
 * The conformance monitor: every golden trace conforms; traces mutated the
 * way a misbehaving peer would (a message skipped, two swapped, early_data in
 * EncryptedExtensions, a Certificate after a PSK ServerHello, …) are reported
 * at the right step with the RFC 8446 section and the alert a conforming
 * implementation sends.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ClientHello, type EncryptedExtensions, PskKeyExchangeMode, type ServerHello } from '../wire/types.js';
import { parseTrace, type Trace } from './format.js';
import { checkTrace, type Violation } from './monitor.js';
import { insertReceivedAfter, receivedMessage, rewriteReceived, skipReceived, swapReceived } from './testing/mutate.js';

const dir = fileURLToPath(new URL('./golden/', import.meta.url));
function golden(name: string): Trace {
  const p = parseTrace(readFileSync(`${dir}${name}.json`, 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return p.trace;
}

function violationOf(t: Trace): Violation {
  const r = checkTrace(t);
  if (r.conforms) throw new Error('expected a violation, the trace conforms');
  return r.violation;
}

describe('every golden trace conforms', () => {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    it(`${f} conforms, every received step checked`, () => {
      const t = golden(f.replace(/\.json$/, ''));
      const r = checkTrace(t);
      expect(r).toMatchObject({ conforms: true });
      const received = t.handshakes.flatMap((h) =>
        h.sides.flatMap((s) => s.steps.filter((x) => x.direction === 'in' && x.kind !== 'early_data_skipped')),
      );
      expect(r.steps).toBe(received.length);
    });
  }
});

describe('mutated traces are reported with the section and the alert', () => {
  it('a skipped EncryptedExtensions: Certificate arrives while the client waits for EncryptedExtensions', () => {
    const v = violationOf(skipReceived(golden('full-handshake'), 0, 'client', 'encrypted_extensions'));
    expect(v).toMatchObject({
      role: 'client',
      state: 'expectEncryptedExtensions',
      message: 'certificate',
      section: '§4.3.1',
      alert: 'unexpected_message',
    });
    expect(v.recorded).toMatch(/accepts it/);
  });

  it('a skipped server Finished: the client sends its own Finished without having verified the server Finished', () => {
    const v = violationOf(skipReceived(golden('full-handshake'), 0, 'client', 'finished'));
    expect(v).toMatchObject({ role: 'client', state: 'expectServerFinished', message: 'sent finished', section: '§4.4.4', alert: null });
  });

  it('a skipped client Finished: the server sends tickets before the client Finished', () => {
    const v = violationOf(skipReceived(golden('full-handshake'), 0, 'server', 'finished'));
    expect(v).toMatchObject({ role: 'server', state: 'expectClientFinished', message: 'sent new_session_ticket', section: '§4.6.1' });
  });

  it('Certificate and CertificateVerify swapped: CertificateVerify where Certificate must come', () => {
    const v = violationOf(swapReceived(golden('full-handshake'), 0, 'client', 'certificate', 'certificate_verify'));
    expect(v).toMatchObject({
      state: 'expectCertificateOrCertificateRequest',
      message: 'certificate_verify',
      section: '§4.4.2',
      alert: 'unexpected_message',
    });
  });

  it('ServerHello and EncryptedExtensions swapped: EncryptedExtensions before any ServerHello', () => {
    const v = violationOf(swapReceived(golden('full-handshake'), 0, 'client', 'server_hello', 'encrypted_extensions'));
    expect(v).toMatchObject({
      state: 'expectServerHello',
      message: 'encrypted_extensions',
      section: '§4.1.3',
      alert: 'unexpected_message',
    });
  });

  it('early_data in EncryptedExtensions that the client never offered: unsupported_extension (§4.2.10)', () => {
    const t = rewriteReceived<EncryptedExtensions>(golden('full-handshake'), 0, 'client', 'encrypted_extensions', (ee) => ({
      ...ee,
      extensions: [...ee.extensions, { type: 'early_data' }],
    }));
    const v = violationOf(t);
    expect(v).toMatchObject({
      state: 'expectEncryptedExtensions',
      message: 'encrypted_extensions',
      section: '§4.2.10',
      alert: 'unsupported_extension',
    });
  });

  it('a Certificate after a PSK ServerHello: with a PSK the server sends Finished next (§2.2)', () => {
    const base = golden('resumption');
    const cert = receivedMessage(base, 0, 'client', 'certificate');
    const v = violationOf(insertReceivedAfter(base, 1, 'client', 'encrypted_extensions', cert));
    expect(v).toMatchObject({
      handshake: 1,
      role: 'client',
      state: 'expectServerFinished',
      message: 'certificate',
      section: '§2.2',
      alert: 'unexpected_message',
    });
  });

  it('EndOfEarlyData accepted by a server that never accepted early data: §4.5, unexpected_message', () => {
    // The refusal golden shows the server refusing it; a trace where the server went on is a violation.
    const t = golden('refuse-end-of-early-data');
    const server = t.handshakes[0]!.sides.find((s) => s.role === 'server')!;
    const eoed = server.steps.find((s) => s.message?.type === 'end_of_early_data')!;
    eoed.stateAfter = 'expectClientFinished';
    const v = violationOf(t);
    expect(v).toMatchObject({
      role: 'server',
      state: 'expectClientFinished',
      message: 'end_of_early_data',
      section: '§4.5',
      alert: 'unexpected_message',
    });
  });

  it('a ServerHello that selects a PSK without a key share (psk_ke): illegal_parameter (§4.2.9)', () => {
    const t = rewriteReceived<ServerHello>(golden('resumption'), 1, 'client', 'server_hello', (sh) => ({
      ...sh,
      extensions: sh.extensions.filter((e) => e.type !== 'key_share_server'),
    }));
    const v = violationOf(t);
    expect(v).toMatchObject({
      handshake: 1,
      state: 'expectServerHello',
      message: 'server_hello',
      section: '§4.2.9',
      alert: 'illegal_parameter',
    });
  });

  it('a server that resumes a psk_ke-only offer: the PSK must be ignored (§4.2.9)', () => {
    // Take the resumption trace and make the ClientHello offer psk_ke only; the recorded server still resumed.
    const t = rewriteReceived<ClientHello>(golden('resumption'), 1, 'server', 'client_hello', (ch) => ({
      ...ch,
      extensions: ch.extensions.map((e) => (e.type === 'psk_key_exchange_modes' ? { ...e, modes: [PskKeyExchangeMode.psk_ke] } : e)),
    }));
    const v = violationOf(t);
    expect(v).toMatchObject({
      handshake: 1,
      role: 'server',
      state: 'expectClientHello',
      message: 'client_hello',
      section: '§4.2.9',
      alert: null,
    });
  });

  it('a client that takes a bad Finished: the recorded guard outcome says it failed to verify, the trace goes on', () => {
    const t = golden('refuse-bad-finished');
    const client = t.handshakes[0]!.sides.find((s) => s.role === 'client')!;
    const fin = client.steps.find((s) => s.direction === 'in' && s.message?.type === 'finished')!;
    fin.stateAfter = 'connected';
    const v = violationOf(t);
    expect(v).toMatchObject({ state: 'expectServerFinished', message: 'finished', section: '§4.4.4', alert: 'decrypt_error' });
  });

  it('a refusal with the wrong alert is reported with the right one', () => {
    const t = golden('refuse-bad-binder');
    const server = t.handshakes[1]!.sides.find((s) => s.role === 'server')!;
    const alert = server.steps.find((s) => s.direction === 'out' && s.kind === 'alert')!;
    alert.alert = { level: 2, description: 'handshake_failure' };
    const v = violationOf(t);
    expect(v).toMatchObject({ handshake: 1, role: 'server', message: 'client_hello', section: '§4.2.11.2', alert: 'decrypt_error' });
    expect(v.recorded).toMatch(/handshake_failure/);
  });

  it('a second ChangeCipherSpec: unexpected_message (§5)', () => {
    const base = golden('full-handshake');
    const t = JSON.parse(JSON.stringify(base)) as Trace;
    const client = t.handshakes[0]!.sides.find((s) => s.role === 'client')!;
    const i = client.steps.findIndex((s) => s.direction === 'in' && s.kind === 'change_cipher_spec');
    const ccs = client.steps[i]!;
    client.steps.splice(i + 1, 0, { ...ccs, event: null, guards: [], transitions: [], stateBefore: ccs.stateAfter });
    const v = violationOf(t);
    expect(v).toMatchObject({ message: 'change_cipher_spec', section: '§5', alert: 'unexpected_message' });
  });

  it('a reencoded but unchanged message still conforms (the monitor judges bytes, not labels)', () => {
    const t = rewriteReceived<EncryptedExtensions>(golden('full-handshake'), 0, 'client', 'encrypted_extensions', (ee) => ee);
    expect(checkTrace(t)).toMatchObject({ conforms: true });
  });

  it('judges a one-sided trace without guard outcomes (as recorded against a real peer) from the bytes and the recorded reactions', () => {
    const oneSided = (name: string, role: 'client' | 'server'): Trace => {
      const t = golden(name);
      return {
        ...t,
        meta: { ...t.meta, role, peer: 'example.test:443' },
        handshakes: t.handshakes.map((h) => ({
          ...h,
          sides: h.sides.filter((s) => s.role === role).map((s) => ({ ...s, steps: s.steps.map((x) => ({ ...x, guards: [] })) })),
        })),
      };
    };
    for (const name of [
      'full-handshake',
      'resumption',
      'hello-retry-resumption',
      'refuse-bad-finished',
      'refuse-bad-binder',
      'refuse-unoffered-early-data',
    ]) {
      expect(checkTrace(oneSided(name, 'client')), `${name} client`).toMatchObject({ conforms: true });
      expect(checkTrace(oneSided(name, 'server')), `${name} server`).toMatchObject({ conforms: true });
    }
    const v = violationOf(skipReceived(oneSided('resumption', 'client'), 1, 'client', 'encrypted_extensions'));
    expect(v).toMatchObject({
      handshake: 1,
      state: 'expectEncryptedExtensions',
      message: 'finished',
      section: '§4.3.1',
      alert: 'unexpected_message',
    });
  });
});
