/**
 * The monitor judges with the charts' own rules: one mutated trace per rule
 * family, each reported with the refusal's alert, section and sentence from
 * the table — the server's ClientHello rules (first and second hello), the
 * client's HelloRetryRequest and ServerHello rules, the chart's own
 * EncryptedExtensions, CertificateRequest and Certificate judges on the public
 * context, CertificateVerify recomputed over the public transcript (both
 * sides), and unexpected_message citing what the chart's state takes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chainVerifier, defaultClientConfig, defaultServerConfig } from '../../engine/config.js';
import { encodeHandshake } from '../../wire/handshake.js';
import { REFUSALS, type RefusalReason } from '../../wire/refusals.js';
import {
  type Certificate,
  type CertificateVerify,
  CipherSuite,
  type ClientHello,
  type EncryptedExtensions,
  NamedGroup,
  type ServerHello,
  SignatureScheme,
} from '../../wire/types.js';
import { parseTrace, type Role, type Trace } from '../format.js';
import { type CheckResult, checkTrace, type Violation } from '../monitor.js';
import { tracedClientMachine, tracedServerMachine } from '../recorder.js';
import { insertReceivedAfter, receivedMessage, rewriteReceived } from '../testing/mutate.js';
import { runScenario, type Scenario } from '../testing/scenarios.js';

const dir = fileURLToPath(new URL('../golden/', import.meta.url));
function golden(name: string): Trace {
  const p = parseTrace(readFileSync(`${dir}${name}.json`, 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return p.trace;
}

function violationOf(r: CheckResult): Violation {
  if (r.conforms) throw new Error('expected a violation, the trace conforms');
  return r.violation;
}

/** The violation a conforming side's refusal names: the table's alert, section and sentence. */
function refusedWith(reason: RefusalReason) {
  const { alert, section, sentence } = REFUSALS[reason];
  return { alert, section, requirement: expect.stringContaining(sentence) as unknown as string };
}

const side = (t: Trace, h: number, role: Role) => {
  const s = t.handshakes[h]?.sides.find((x) => x.role === role);
  if (!s) throw new Error(`no ${role} in handshake ${h}`);
  return s;
};

describe("the server's ClientHello rules (machines/server/rules.ts clientHelloViolation)", () => {
  it('reports a server that accepted a ClientHello with a compression method other than null: illegal_parameter (§4.1.2)', () => {
    const t = rewriteReceived<ClientHello>(golden('full-handshake'), 0, 'server', 'client_hello', (ch) => ({
      ...ch,
      legacyCompressionMethods: new Uint8Array([1, 0]),
    }));
    const v = violationOf(checkTrace(t));
    expect(v).toMatchObject({ role: 'server', state: 'expectClientHello', message: 'client_hello', ...refusedWith('Compression') });
    expect(v.recorded).toMatch(/accepts it and goes on to expectClientFinished/);
  });

  it('reports a server that accepted a legacy_version of SSL 3.0: protocol_version (Appendix D.5)', () => {
    const t = rewriteReceived<ClientHello>(golden('full-handshake'), 0, 'server', 'client_hello', (ch) => ({
      ...ch,
      legacyVersion: 0x0300,
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({ role: 'server', message: 'client_hello', ...refusedWith('LegacyVersion') });
  });

  it('reports a server that accepted an x25519 share that is no public key, with the provider’s own check: illegal_parameter (§4.2.8.2)', () => {
    const t = rewriteReceived<ClientHello>(golden('full-handshake'), 0, 'server', 'client_hello', (ch) => ({
      ...ch,
      extensions: ch.extensions.map((e) =>
        e.type === 'key_share_client' ? { ...e, shares: e.shares.map((s) => ({ ...s, keyExchange: s.keyExchange.slice(1) })) } : e,
      ),
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({ role: 'server', message: 'client_hello', ...refusedWith('InvalidKeyShare') });
  });

  it('compares a second ClientHello with the first: a new random after the HelloRetryRequest is illegal_parameter (§4.1.2)', () => {
    const t = rewriteReceived<ClientHello>(
      golden('hello-retry'),
      0,
      'server',
      'client_hello',
      (ch) => ({ ...ch, random: new Uint8Array(32).fill(7) }),
      1,
    );
    const v = violationOf(checkTrace(t));
    expect(v).toMatchObject({
      role: 'server',
      state: 'expectSecondClientHello',
      message: 'client_hello',
      ...refusedWith('SecondHelloChanged'),
    });
    expect(v.requirement).toContain('random');
  });
});

describe('the server’s own policy comes from the trace, its alert from the table', () => {
  // A server that serves only h2, a client that offers only http/1.1: a refusal of the server's configuration.
  const noCommonAlpn: Scenario = {
    name: 'no-common-alpn',
    description: 'The server serves h2 only; the client offers http/1.1 only.',
    handshakes: [
      {
        label: 'no common ALPN protocol',
        client: (s) => ({
          ...defaultClientConfig({
            serverName: 'localhost',
            alpnProtocols: ['http/1.1'],
            verifyServerChain: chainVerifier({ ca: s.fx.caPem, serverName: 'localhost', purpose: 'server' }),
          }),
          env: s.clientEnv,
          machine: tracedClientMachine,
        }),
        server: (s) => ({
          ...defaultServerConfig({ certificates: [s.fx.server], alpnProtocols: ['h2'] }),
          env: s.serverEnv,
          ticketStore: s.store,
          machine: tracedServerMachine,
        }),
      },
    ],
  };
  let recorded: Promise<Trace> | undefined;
  const trace = () => (recorded ??= runScenario(noCommonAlpn));

  it('a refusal the public rules do not make, recorded with its reason and the table’s alert, conforms', async () => {
    const t = await trace();
    expect(side(t, 0, 'server').outcome).toMatchObject({ state: 'failed', alert: 'no_application_protocol', reason: 'NoCommonAlpn' });
    expect(checkTrace(t)).toMatchObject({ conforms: true });
  });

  it('the same refusal sent with another alert is reported with the one the table names for its reason (RFC 7301 §3.2)', async () => {
    const t = JSON.parse(JSON.stringify(await trace())) as Trace;
    const alert = side(t, 0, 'server').steps.find((s) => s.direction === 'out' && s.kind === 'alert');
    if (!alert) throw new Error('no alert sent');
    alert.alert = { level: 2, description: 'handshake_failure' };
    const v = violationOf(checkTrace(t));
    expect(v).toMatchObject({
      role: 'server',
      state: 'expectClientHello',
      message: 'client_hello',
      ...refusedWith('NoCommonAlpn'),
      recorded: 'the trace aborts with handshake_failure',
    });
  });
});

describe("the client's HelloRetryRequest and ServerHello rules (machines/client/rules.ts)", () => {
  it('reports a client that retried for a group it had already sent a share for: illegal_parameter (§4.2.8)', () => {
    const t = rewriteReceived<ServerHello>(golden('hello-retry'), 0, 'client', 'server_hello', (hrr) => ({
      ...hrr,
      extensions: hrr.extensions.map((e) => (e.type === 'key_share_hrr' ? { ...e, selectedGroup: NamedGroup.secp384r1 } : e)),
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'client',
      state: 'expectServerHello',
      message: 'server_hello',
      ...refusedWith('RetryForSentShare'),
    });
  });

  it('reports a client that accepted a ServerHello with legacy_version 0x0301: protocol_version (§4.1.3)', () => {
    const t = rewriteReceived<ServerHello>(golden('full-handshake'), 0, 'client', 'server_hello', (sh) => ({
      ...sh,
      legacyVersion: 0x0301,
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'client',
      message: 'server_hello',
      ...refusedWith('ServerHelloLegacyVersion'),
    });
  });

  it('reports a client that accepted another legacy_session_id_echo: illegal_parameter (§4.1.3)', () => {
    const t = rewriteReceived<ServerHello>(golden('full-handshake'), 0, 'client', 'server_hello', (sh) => ({
      ...sh,
      legacySessionIdEcho: new Uint8Array(32),
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({ role: 'client', message: 'server_hello', ...refusedWith('SessionIdMismatch') });
  });

  it('reports a client that accepted an x25519 server share that is no public key: illegal_parameter (§4.2.8.2)', () => {
    // The ServerHello after the retry: an (EC)DHE share, which the provider's public check judges (a KEM ciphertext would need the client's key).
    const t = rewriteReceived<ServerHello>(
      golden('hello-retry'),
      0,
      'client',
      'server_hello',
      (sh) => ({
        ...sh,
        extensions: sh.extensions.map((e) =>
          e.type === 'key_share_server' ? { ...e, share: { group: NamedGroup.x25519, keyExchange: new Uint8Array(32) } } : e,
        ),
      }),
      1,
    );
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'client',
      state: 'expectServerHelloAfterRetry',
      message: 'server_hello',
      ...refusedWith('InvalidKeyShare'),
    });
  });

  it('reports a resumed ServerHello whose suite has another hash than the ticket, when the trace names the ticket’s suite (§4.2.11)', () => {
    const t = rewriteReceived<ServerHello>(golden('resumption'), 1, 'client', 'server_hello', (sh) => ({
      ...sh,
      cipherSuite: CipherSuite.TLS_AES_256_GCM_SHA384,
    }));
    expect(side(t, 1, 'client').config.sessionSuite).toBe('TLS_AES_128_GCM_SHA256');
    expect(violationOf(checkTrace(t))).toMatchObject({
      handshake: 1,
      role: 'client',
      state: 'expectServerHello',
      message: 'server_hello',
      ...refusedWith('PskHashMismatch'),
    });
  });

  it('skips that one rule when the trace does not name the ticket’s suite: the ServerHello passes, only what follows can be judged', () => {
    const t = rewriteReceived<ServerHello>(golden('resumption'), 1, 'client', 'server_hello', (sh) => ({
      ...sh,
      cipherSuite: CipherSuite.TLS_AES_256_GCM_SHA384,
    }));
    delete side(t, 1, 'client').config.sessionSuite;
    const v = violationOf(checkTrace(t));
    expect(v.message).not.toBe('server_hello');
    expect(v.state).not.toBe('expectServerHello');
  });
});

describe("the client chart's own judges on the public context: EncryptedExtensions, CertificateRequest, Certificate", () => {
  it('reports a client that accepted an ALPN protocol it never offered: unsupported_extension (§4.2)', () => {
    const t = rewriteReceived<EncryptedExtensions>(golden('full-handshake'), 0, 'client', 'encrypted_extensions', (ee) => ({
      ...ee,
      extensions: [...ee.extensions, { type: 'alpn', protocols: ['h2'] }],
    }));
    const v = violationOf(checkTrace(t));
    expect(v).toMatchObject({
      role: 'client',
      state: 'expectEncryptedExtensions',
      message: 'encrypted_extensions',
      ...refusedWith('UnsolicitedExtension'),
    });
    expect(v.requirement).toContain('ALPN');
  });

  it('reports a client that accepted a CertificateRequest with a context during the handshake: illegal_parameter (§4.3.2)', () => {
    const cr = encodeHandshake({
      type: 'certificate_request',
      certificateRequestContext: new Uint8Array([1]),
      extensions: [{ type: 'signature_algorithms', schemes: [SignatureScheme.ed25519] }],
    });
    const t = insertReceivedAfter(golden('full-handshake'), 0, 'client', 'encrypted_extensions', cr);
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'client',
      state: 'expectCertificateOrCertificateRequest',
      message: 'certificate_request',
      ...refusedWith('CertificateRequestContext'),
    });
  });

  it('reports a client that accepted an empty server Certificate: decode_error (§4.4.2.4)', () => {
    const t = rewriteReceived<Certificate>(golden('full-handshake'), 0, 'client', 'certificate', (c) => ({ ...c, entries: [] }));
    expect(violationOf(checkTrace(t))).toMatchObject({ role: 'client', message: 'certificate', ...refusedWith('EmptyCertificate') });
  });
});

describe("CertificateVerify, recomputed by the chart's judge over the public transcript", () => {
  it('reports a client that accepted a server signature that does not verify, whatever the trace recorded for it: decrypt_error (§4.4.3)', () => {
    const t = rewriteReceived<CertificateVerify>(golden('full-handshake'), 0, 'client', 'certificate_verify', (cv) => {
      const signature = Uint8Array.from(cv.signature);
      signature[signature.length - 1] = (signature[signature.length - 1] as number) ^ 1;
      return { ...cv, signature };
    });
    const step = side(t, 0, 'client').steps.find((s) => s.direction === 'in' && s.message?.type === 'certificate_verify');
    expect(step?.guards).toContainEqual({ guard: 'isServerSignatureValid', result: true });
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'client',
      state: 'expectCertificateVerify',
      message: 'certificate_verify',
      ...refusedWith('BadSignature'),
    });
  });

  it('reports a client that accepted a scheme that does not fit the server key: illegal_parameter (§4.4.3)', () => {
    const t = rewriteReceived<CertificateVerify>(golden('full-handshake'), 0, 'client', 'certificate_verify', (cv) => ({
      ...cv,
      algorithm: SignatureScheme.ed25519,
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'client',
      message: 'certificate_verify',
      ...refusedWith('UnofferedSignatureScheme'),
    });
  });

  it('does not take a recorded signature outcome over the recomputed one: a valid signature recorded as failed still conforms', () => {
    const t = golden('full-handshake');
    const step = side(t, 0, 'client').steps.find((s) => s.direction === 'in' && s.message?.type === 'certificate_verify');
    if (!step) throw new Error('no CertificateVerify');
    step.guards = step.guards.map((g) => ({ ...g, result: false }));
    expect(checkTrace(t)).toMatchObject({ conforms: true });
  });
});

describe('client authentication, on a run recorded here (server side: the chart’s own Certificate and CertificateVerify judges)', () => {
  const clientAuth: Scenario = {
    name: 'client-authentication',
    description: 'A full handshake in which the server requires a client certificate (Ed25519).',
    handshakes: [
      {
        label: 'client authentication',
        client: (s) => ({
          ...defaultClientConfig({
            serverName: 'localhost',
            verifyServerChain: chainVerifier({ ca: s.fx.caPem, serverName: 'localhost', purpose: 'server' }),
            clientCertificate: s.fx.client,
          }),
          env: s.clientEnv,
          machine: tracedClientMachine,
        }),
        server: (s) => ({
          ...defaultServerConfig({
            certificates: [s.fx.server],
            requestClientCertificate: true,
            requireClientCertificate: true,
            verifyClientChain: chainVerifier({ ca: s.fx.caPem, purpose: 'client' }),
          }),
          env: s.serverEnv,
          ticketStore: s.store,
          machine: tracedServerMachine,
        }),
      },
    ],
  };
  let recorded: Promise<Trace> | undefined;
  const trace = () => (recorded ??= runScenario(clientAuth));

  it('conforms, the client CertificateVerify recomputed by the server chart’s judge', async () => {
    const t = await trace();
    expect(side(t, 0, 'server').outcome.state).toBe('connected');
    expect(
      side(t, 0, 'server')
        .steps.filter((s) => s.direction === 'in')
        .map((s) => s.message?.type ?? s.kind),
    ).toContain('certificate_verify');
    expect(checkTrace(t)).toMatchObject({ conforms: true });
  });

  it('reports a server that accepted a client signature that does not verify: decrypt_error (§4.4.3)', async () => {
    const t = rewriteReceived<CertificateVerify>(await trace(), 0, 'server', 'certificate_verify', (cv) => ({
      ...cv,
      signature: cv.signature.map((b, i) => (i === 0 ? b ^ 0x80 : b)),
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'server',
      state: 'expectClientCertificateVerify',
      message: 'certificate_verify',
      ...refusedWith('BadSignature'),
    });
  });

  it('reports a server that accepted a client Certificate with a context it never sent: illegal_parameter (§4.4.2)', async () => {
    const t = rewriteReceived<Certificate>(await trace(), 0, 'server', 'certificate', (c) => ({
      ...c,
      certificateRequestContext: new Uint8Array([9]),
    }));
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'server',
      state: 'expectClientCertificate',
      message: 'certificate',
      ...refusedWith('CertificateContext'),
    });
  });

  it('reports a server that went on without the certificate it requires: certificate_required (§4.4.2.4)', async () => {
    const t = rewriteReceived<Certificate>(await trace(), 0, 'server', 'certificate', (c) => ({ ...c, entries: [] }));
    expect(violationOf(checkTrace(t))).toMatchObject({
      role: 'server',
      state: 'expectClientCertificate',
      message: 'certificate',
      ...refusedWith('NoClientCertificate'),
    });
  });
});

describe("unexpected_message cites what the chart's state takes (Appendix A)", () => {
  it('names the messages the state takes and the section of the one it waits for', () => {
    const base = golden('full-handshake');
    const v = violationOf(
      checkTrace(insertReceivedAfter(base, 0, 'client', 'encrypted_extensions', receivedMessage(base, 0, 'client', 'finished'))),
    );
    expect(v).toMatchObject({
      state: 'expectCertificateOrCertificateRequest',
      message: 'finished',
      section: '§4.4.2',
      alert: 'unexpected_message',
    });
    expect(v.requirement).toBe(
      'in expectCertificateOrCertificateRequest the client takes CertificateRequest or Certificate (Appendix A.1); Finished there is unexpected_message',
    );
  });

  it('after the handshake cites the post-handshake messages (§4.6)', () => {
    const base = golden('full-handshake');
    const v = violationOf(
      checkTrace(insertReceivedAfter(base, 0, 'client', 'new_session_ticket', receivedMessage(base, 0, 'client', 'server_hello'))),
    );
    expect(v).toMatchObject({ state: 'connected', message: 'server_hello', section: '§4.6', alert: 'unexpected_message' });
    expect(v.requirement).toContain('NewSessionTicket or KeyUpdate');
  });
});
