/**
 * Importing the committed captures (made once by live.test.ts with
 * UPDATE_CAPTURES=1; no tshark, dumpcap or openssl needed here):
 *
 * - fixtures/openssl-resumption.pcapng: openssl s_client → s_server, a full
 *   handshake then a resumption, with the client's key log;
 * - fixtures/tlschart-hrr-resumption.pcapng: tlschart client → tlschart
 *   server, a HelloRetryRequest on each connection, the second resumed, with
 *   tlschart's own key log.
 *
 * What is checked: every message of both directions decoded; the resumed
 * connection names the one whose ticket it used; Finished and
 * CertificateVerify recomputed; the trace fits the schema, conforms, and
 * holds no secret; a bad Finished, a changed byte, missing keys and a
 * damaged file are each reported for what they are, never a crash.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capture as cliCapture } from '../../cli/testing/capture.js';
import { trafficKeys } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { suiteByName } from '../../crypto/suites.js';
import { EXIT, traceCheck, traceImport } from '../cli-commands.js';
import { loadTrace, parseTrace, serializeTrace, type Trace } from '../format.js';
import { type CheckResult, checkTrace } from '../monitor.js';
import { textForms } from '../testing/secrets.js';
import { type ImportResult, importCapture } from './index.js';
import { parseKeyLog } from './keylog.js';
import { connectionsOf, flipped, offsetInRecord, withBadServerFinished } from './testing/tamper.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const capture = (name: string) => new Uint8Array(readFileSync(here(`./fixtures/${name}.pcapng`)));
const keys = (name: string) => readFileSync(here(`./fixtures/${name}.keys`), 'utf8');
const OPENSSL = 'openssl-resumption';
const TLSCHART = 'tlschart-hrr-resumption';

function imported(bytes: Uint8Array, keylog: string | undefined): Extract<ImportResult, { ok: true }> {
  const r = importCapture(bytes, keylog, { captureName: 'capture.pcapng', ...(keylog !== undefined ? { keylogName: 'keys.log' } : {}) });
  if (!r.ok) throw new Error(r.error);
  return r;
}

/** What each side sent, handshake messages only, per connection. */
const sentMessages = (t: Trace) =>
  t.handshakes.map((h) =>
    Object.fromEntries(
      h.sides.map((s) => [s.role, s.steps.filter((x) => x.direction === 'out' && x.kind === 'handshake').map((x) => x.message?.type)]),
    ),
  );
const guardsOf = (t: Trace) =>
  t.handshakes.map((h) => h.sides.flatMap((s) => s.steps.flatMap((x) => x.guards.map((g) => `${s.role}:${g.guard}=${g.result}`))));
function violation(r: CheckResult) {
  if (r.conforms) throw new Error('expected a violation, the trace conforms');
  return r.violation;
}

describe('importing the committed capture of openssl s_client and s_server', () => {
  const { trace, report } = imported(capture(OPENSSL), keys(OPENSSL));

  it('decodes every handshake message of both directions of both connections', () => {
    expect(sentMessages(trace)).toEqual([
      {
        client: ['client_hello', 'finished'],
        server: [
          'server_hello',
          'encrypted_extensions',
          'certificate',
          'certificate_verify',
          'finished',
          'new_session_ticket',
          'new_session_ticket',
        ],
      },
      { client: ['client_hello', 'finished'], server: ['server_hello', 'encrypted_extensions', 'finished', 'new_session_ticket'] },
    ]);
    // Each message the sender sent is a step the receiver received, with the same bytes.
    for (const h of trace.handshakes) {
      for (const s of h.sides) {
        const other = h.sides.find((x) => x.role !== s.role);
        const sent = s.steps.filter((x) => x.direction === 'out').map((x) => x.message?.hex ?? x.kind);
        const received = other?.steps.filter((x) => x.direction === 'in').map((x) => x.message?.hex ?? x.kind);
        expect(received).toEqual(sent);
      }
    }
    expect(report.connections.map((c) => [c.suite, c.group, c.resumed, c.capture.keys, c.badRecords])).toEqual([
      ['TLS_AES_256_GCM_SHA384', 'x25519', false, 'all', 0],
      ['TLS_AES_256_GCM_SHA384', 'x25519', true, 'all', 0],
    ]);
  });

  it('links the resumed connection to the connection whose NewSessionTicket it used', () => {
    expect(trace.handshakes.map((h) => h.capture?.resumes ?? null)).toEqual([null, { handshake: 0, label: trace.handshakes[0]?.label }]);
    expect(trace.handshakes[1]?.label).toMatch(/^connection 2: 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+, resumed \(ticket from 1\)$/);
  });

  it('recomputes both Finished of each connection and the CertificateVerify, and all verify', () => {
    expect(guardsOf(trace)).toEqual([
      ['client:isServerSignatureValid=true', 'client:isServerFinishedValid=true', 'server:isClientFinishedValid=true'],
      ['client:isServerFinishedValid=true', 'server:isClientFinishedValid=true'],
    ]);
  });

  it('fits the trace schema, parses, and conforms to RFC 8446 on every received step', () => {
    const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, validateFormats: false }).compile(
      JSON.parse(readFileSync(here('../trace.schema.json'), 'utf8')) as object,
    );
    const doc = JSON.parse(serializeTrace(trace)) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(parseTrace(serializeTrace(trace)).ok).toBe(true);
    expect(trace.meta).toMatchObject({
      role: 'pair',
      source: 'import',
      capture: { file: 'capture.pcapng', format: 'pcapng', keylog: 'keys.log' },
    });
    const received = trace.handshakes.flatMap((h) => h.sides.flatMap((s) => s.steps.filter((x) => x.direction === 'in')));
    expect(checkTrace(trace)).toEqual({ conforms: true, steps: received.length });
  });

  it('writes no secret: not the key log, not the traffic keys, not the application data', () => {
    const text = serializeTrace(trace);
    const secrets = [...parseKeyLog(keys(OPENSSL)).byClientRandom.values()].flatMap((s) => Object.values(s));
    expect(secrets.length).toBe(10);
    const suite = suiteByName('TLS_AES_256_GCM_SHA384');
    if (!suite) throw new Error('no suite');
    const derived = secrets.filter((s) => s.length === suite.hashLen).flatMap((s) => Object.values(trafficKeys(suite, s, nobleProvider)));
    for (const b of [...secrets, ...derived]) {
      for (const form of textForms(Buffer.from(b).toString('hex'))) expect(text.includes(form)).toBe(false);
    }
    for (const plain of ['GET / HTTP/1.0', 'HTTP/1.0 200 ok']) {
      expect(text).not.toContain(plain);
      expect(text).not.toContain(Buffer.from(plain).toString('hex'));
    }
  });

  it('reports a server Finished that does not verify, accepted by the client, as a violation with decrypt_error (§4.4.4)', () => {
    const bad = imported(withBadServerFinished(capture(OPENSSL), parseKeyLog(keys(OPENSSL))), keys(OPENSSL));
    expect(guardsOf(bad.trace)[0]).toContain('client:isServerFinishedValid=false');
    expect(violation(checkTrace(bad.trace))).toMatchObject({
      handshake: 0,
      role: 'client',
      state: 'expectServerFinished',
      message: 'finished',
      section: '§4.4.4',
      alert: 'decrypt_error',
    });
  });

  it('reports a changed byte in a protected record as bad_record_mac, and still reads the records after it', () => {
    const bytes = capture(OPENSSL);
    const [first] = connectionsOf(bytes);
    if (!first) throw new Error('no connection');
    const r = imported(flipped(bytes, offsetInRecord(first.toClient, 3, 10)), keys(OPENSSL)); // the Certificate record
    expect(r.report.connections[0]?.badRecords).toBe(1);
    const client = r.trace.handshakes[0]?.sides.find((s) => s.role === 'client');
    expect(
      client?.steps
        .filter((s) => s.direction === 'in')
        .map((s) => s.message?.type ?? s.kind)
        .slice(0, 6),
    ).toEqual(['server_hello', 'change_cipher_spec', 'encrypted_extensions', 'malformed', 'certificate_verify', 'finished']);
    expect(violation(checkTrace(r.trace))).toMatchObject({
      role: 'client',
      message: 'malformed',
      section: '§5.2',
      alert: 'bad_record_mac',
    });
  });

  it('without a key log imports the hellos and ChangeCipherSpec of both connections, and says the rest was not decrypted', () => {
    const r = imported(capture(OPENSSL), undefined);
    expect(sentMessages(r.trace)).toEqual([
      { client: ['client_hello'], server: ['server_hello'] },
      { client: ['client_hello'], server: ['server_hello'] },
    ]);
    expect(r.trace.handshakes.map((h) => h.capture?.keys)).toEqual(['none', 'none']);
    expect(r.trace.handshakes[0]?.capture?.notes).toEqual([
      expect.stringMatching(
        /^the key log has no secrets for client random [0-9a-f]{16}…: only the plaintext part was imported .*; \d+ protected record\(s\), \d+ bytes, were not decrypted$/,
      ),
    ]);
    expect(r.trace.handshakes[1]?.capture?.notes).toContain(
      'resumed with a ticket this capture does not show being issued (earlier connections were not all decrypted)',
    );
    expect(checkTrace(r.trace)).toMatchObject({ conforms: true });
  });

  it('with the handshake secrets only, reads the handshakes and names the application secrets that are missing', () => {
    const handshakeOnly = keys(OPENSSL)
      .split('\n')
      .filter((l) => l.includes('HANDSHAKE'))
      .join('\n');
    const r = imported(capture(OPENSSL), handshakeOnly);
    expect(sentMessages(r.trace)[0]).toEqual({
      client: ['client_hello', 'finished'],
      server: ['server_hello', 'encrypted_extensions', 'certificate', 'certificate_verify', 'finished'],
    });
    expect(r.trace.handshakes.map((h) => h.capture?.keys)).toEqual(['some', 'some']);
    const notes = r.trace.handshakes[0]?.capture?.notes.join('\n');
    expect(notes).toMatch(/no SERVER_TRAFFIC_SECRET_0 in the key log/);
    expect(notes).toMatch(/no CLIENT_TRAFFIC_SECRET_0 in the key log/);
    expect(checkTrace(r.trace)).toMatchObject({ conforms: true });
  });

  it('uses the keys a pcapng file carries in a Decryption Secrets Block when no key log is given', () => {
    const r = imported(withSecretsBlock(capture(OPENSSL), keys(OPENSSL)), undefined);
    expect(r.report.keylog).toMatchObject({ embedded: true, secrets: 10, clientRandoms: 2 });
    expect(r.trace.handshakes.map((h) => h.capture?.keys)).toEqual(['all', 'all']);
  });

  it('never throws on a damaged capture: flipped bytes and a cut file give a trace or a reason', () => {
    const bytes = capture(OPENSSL);
    const keylog = keys(OPENSSL);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(bytes.length),
        (flips, cut) => {
          const damaged = bytes.slice(0, Math.max(cut, 64));
          for (const [at, x] of flips) if (at < damaged.length) damaged[at] = (damaged[at] as number) ^ x;
          const r = importCapture(damaged, keylog, { captureName: 'damaged.pcapng' });
          if (r.ok) {
            expect(parseTrace(serializeTrace(r.trace)).ok).toBe(true);
            checkTrace(r.trace);
          } else expect(r.error).toMatch(/\S/);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('importing the committed capture of tlschart client and server', () => {
  it('follows a HelloRetryRequest on both connections (message_hash transcript), links the resumption, and conforms', () => {
    const { trace } = imported(capture(TLSCHART), keys(TLSCHART));
    expect(sentMessages(trace)).toEqual([
      {
        client: ['client_hello', 'client_hello', 'finished'],
        server: [
          'server_hello',
          'server_hello',
          'encrypted_extensions',
          'certificate',
          'certificate_verify',
          'finished',
          'new_session_ticket',
          'new_session_ticket',
        ],
      },
      {
        client: ['client_hello', 'client_hello', 'finished'],
        server: ['server_hello', 'server_hello', 'encrypted_extensions', 'finished', 'new_session_ticket', 'new_session_ticket'],
      },
    ]);
    const client = trace.handshakes[1]?.sides.find((s) => s.role === 'client');
    expect(
      client?.steps
        .filter((s) => s.direction === 'in' && s.kind === 'handshake')
        .map((s) => `${s.stateBefore}→${s.stateAfter}`)
        .slice(0, 2),
    ).toEqual(['expectServerHello→expectServerHelloAfterRetry', 'expectServerHelloAfterRetry→expectEncryptedExtensions']);
    expect(
      guardsOf(trace)
        .flat()
        .every((g) => g.endsWith('=true')),
    ).toBe(true);
    expect(guardsOf(trace).map((g) => g.length)).toEqual([3, 2]);
    expect(trace.handshakes[1]?.capture?.resumes?.handshake).toBe(0);
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });
});

describe('tlschart trace import', () => {
  const tmp = () => mkdtempSync(join(tmpdir(), 'tlschart-import-'));

  it('writes CAPTURE.json beside the capture by default and prints one report per connection', async () => {
    const d = tmp();
    const file = join(d, 'session.pcapng');
    writeFileSync(file, capture(OPENSSL));
    writeFileSync(join(d, 'keys.log'), keys(OPENSSL));
    const o = cliCapture();
    expect(await traceImport([file, '--keylog', join(d, 'keys.log')], o)).toBe(EXIT.ok);
    expect(o.err).toBe('');
    expect(o.out).toContain(`${file}: pcapng, `);
    expect(o.out).toMatch(/key log .*keys\.log: 10 TLS 1\.3 secret\(s\) for 2 client random\(s\)/);
    expect(o.out).toContain(`wrote ${join(d, 'session.json')} (2 handshake(s)); next: tlschart trace check`);
    const written = loadTrace(join(d, 'session.json'));
    expect(written.ok && written.trace.handshakes.length).toBe(2);
    const check = cliCapture();
    expect(await traceCheck([join(d, 'session.json')], check)).toBe(EXIT.ok);
  });

  it('prints the report as JSON with --json', async () => {
    const d = tmp();
    writeFileSync(join(d, 'c.pcapng'), capture(OPENSSL));
    const o = cliCapture();
    expect(await traceImport([join(d, 'c.pcapng'), '--out', join(d, 'out', 't.json'), '--json'], o)).toBe(EXIT.ok);
    const j = JSON.parse(o.out) as { out: string; connections: Array<{ capture: { keys: string } }> };
    expect(j.out).toBe(join(d, 'out', 't.json'));
    expect(j.connections.map((c) => c.capture.keys)).toEqual(['none', 'none']);
    expect(o.err).toContain('no key log given (--keylog FILE): only the plaintext part of each connection was imported');
  });

  it('exits 2 for a missing file, a missing key log, a file that is not a capture, and a capture without TLS 1.3', async () => {
    const d = tmp();
    writeFileSync(join(d, 'c.pcapng'), capture(OPENSSL));
    writeFileSync(join(d, 'text.pcap'), 'not a capture');
    const empty = new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
    writeFileSync(join(d, 'empty.pcap'), empty);
    const cases: Array<[string[], RegExp]> = [
      [[join(d, 'absent.pcapng')], /cannot read .*absent\.pcapng/],
      [[join(d, 'c.pcapng'), '--keylog', join(d, 'absent.keys')], /cannot read .*absent\.keys/],
      [[join(d, 'text.pcap')], /not a pcap or pcapng file/],
      [[join(d, 'empty.pcap')], /no TLS 1\.3 connection in empty\.pcap \(0 packets, 0 TCP connection\(s\)\)/],
    ];
    for (const [argv, why] of cases) {
      const o = cliCapture();
      expect(await traceImport(argv, o)).toBe(EXIT.unreadable);
      expect(o.err).toMatch(why);
    }
  });

  it('exits 64 without a capture, with two, or with an unknown option, and prints its help with --help', async () => {
    for (const argv of [[], ['a.pcap', 'b.pcap'], ['a.pcap', '--keys', 'k']]) {
      const o = cliCapture();
      expect(await traceImport(argv, o)).toBe(EXIT.usage);
      expect(o.err).toContain('Usage: tlschart trace import CAPTURE');
    }
    const h = cliCapture();
    expect(await traceImport(['--help'], h)).toBe(EXIT.ok);
    expect(h.out).toMatch(/^Usage: tlschart trace import CAPTURE \[--keylog FILE\] \[--out FILE\] \[--json\]/);
  });
});

/** The capture with a Decryption Secrets Block (pcapng §4.7, secrets type TLSK) right after its Section Header Block. */
function withSecretsBlock(bytes: Uint8Array, keylog: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shbLength = view.getUint32(4, true);
  const text = new TextEncoder().encode(keylog);
  const padded = Math.ceil(text.length / 4) * 4;
  const block = new DataView(new ArrayBuffer(20 + padded));
  block.setUint32(0, 0x0a, true);
  block.setUint32(4, 20 + padded, true);
  block.setUint32(8, 0x544c534b, true);
  block.setUint32(12, text.length, true);
  new Uint8Array(block.buffer).set(text, 16);
  block.setUint32(16 + padded, 20 + padded, true);
  return new Uint8Array([...bytes.subarray(0, shbLength), ...new Uint8Array(block.buffer), ...bytes.subarray(shbLength)]);
}
