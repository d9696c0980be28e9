/**
 * Real message material for the level (a) suites: honest runs of the pure
 * pair in several scenarios (full, resumed, HelloRetryRequest, client
 * authentication, psk_ke-only, early data offered, unusable tickets), the
 * events each side received, and mutated variants of them labelled with the
 * attack they stand for and the state they aim at. Every event is something
 * the guards really evaluate: no verdicts, only bytes and decoded messages.
 */

import { assign } from 'xstate';
import { toHex } from '../../crypto/bytes.js';
import { defaultClientConfig, defaultServerConfig } from '../../engine/config.js';
import { clientHelloProbe } from '../../engine/testing/probes.js';
import * as clientActions from '../../machines/client/actions.js';
import type { ClientContext, ClientInput } from '../../machines/client/context.js';
import { bindClientHello } from '../../machines/client/logic.js';
import { clientMachine } from '../../machines/client/machine.js';
import type { ServerInput } from '../../machines/server/context.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { ClientConfig, ServerConfig, TlsEvent } from '../../machines/types.js';
import type { ClientSession, ServerSessionState } from '../../tickets/types.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { encodeHandshake, patchBinders } from '../../wire/handshake.js';
import {
  type Certificate,
  type CertificateVerify,
  CipherSuite,
  type ClientHello,
  type EncryptedExtensions,
  type Extension,
  type Finished,
  type HandshakeMessage,
  NamedGroup,
  type NewSessionTicket,
  PskKeyExchangeMode,
  type ServerHello,
  SignatureScheme,
  type Unencoded,
} from '../../wire/types.js';
import type { AttackKind } from './alerts.js';
import type { LabelledEvent } from './chart-checks.js';
import type { Identities } from './identities.js';
import { type ClientChart, type Delivery, type PureRun, runPurePair, type ServerChart, statelessEnvironment } from './pure.js';

export interface ChartCase<I> {
  name: string;
  input: I;
  alphabet: LabelledEvent[];
  /** Honest scenarios: the events the chart under test received, in order (for the fold suites). */
  scenarios: Array<{ name: string; events: LabelledEvent[] }>;
}

const CLIENT_STATES = [
  'expectServerHello',
  'expectServerHelloAfterRetry',
  'expectEncryptedExtensions',
  'expectCertificateOrCertificateRequest',
  'expectCertificate',
  'expectCertificateVerify',
  'expectServerFinished',
  'connected',
];
const SERVER_STATES = [
  'expectClientHello',
  'expectSecondClientHello',
  'expectClientCertificate',
  'expectClientCertificateVerify',
  'expectClientFinished',
  'connected',
];

function bodyOf<M extends HandshakeMessage>(m: M): Unencoded<M> {
  const { raw: _raw, ...body } = m;
  return body as unknown as Unencoded<M>;
}

function reencode<M extends HandshakeMessage>(m: M, fn: (b: Unencoded<M>) => Unencoded<M>): M {
  return encodeHandshake(fn(bodyOf(m)) as unknown as Unencoded<HandshakeMessage>) as M;
}

const flipLast = (b: Uint8Array): Uint8Array => {
  const o = b.slice();
  o[o.length - 1] = (o[o.length - 1] as number) ^ 1;
  return o;
};

const mapExt = (exts: Extension[], type: Extension['type'], f: (e: Extension) => Extension | undefined): Extension[] =>
  exts.flatMap((e) => {
    if (e.type !== type) return [e];
    const r = f(e);
    return r ? [r] : [];
  });

/** A stable key for an event, so the alphabet holds each piece of material once. */
export function eventKey(e: TlsEvent): string {
  return JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v instanceof TlsError ? `${v.alert}:${v.reason}` : v));
}

function messageOf(d: Delivery): HandshakeMessage | undefined {
  const e = d.event;
  return 'msg' in e ? (e.msg as HandshakeMessage) : undefined;
}

function find<T extends HandshakeMessage['type']>(ds: Delivery[], type: T, nth = 0): Extract<HandshakeMessage, { type: T }> {
  const all = ds.map(messageOf).filter((m): m is HandshakeMessage => m?.type === type);
  const m = all[nth];
  if (!m) throw new Error(`no ${type} #${nth} in the recorded run`);
  return m as Extract<HandshakeMessage, { type: T }>;
}

function labelled(scenario: string, ds: Delivery[]): LabelledEvent[] {
  return ds.map((d) => ({ label: `${scenario}:${d.event.type.replace('recv.', '')}`, event: d.event }));
}

function addAll(into: Map<string, LabelledEvent>, events: LabelledEvent[]): void {
  for (const e of events) {
    const k = eventKey(e.event) + (e.attack ?? '');
    if (!into.has(k)) into.set(k, e);
  }
}

/** Events that are not messages, useful in every state. */
function commonEvents(side: 'client' | 'server'): LabelledEvent[] {
  const all = side === 'client' ? CLIENT_STATES : SERVER_STATES;
  return [
    { label: 'CCS', event: { type: 'recv.ChangeCipherSpec' } },
    { label: 'close_notify', event: { type: 'recv.Alert', level: 1, description: 0 } },
    { label: 'user_canceled', event: { type: 'recv.Alert', level: 1, description: 90 } },
    { label: 'fatal handshake_failure', event: { type: 'recv.Alert', level: 2, description: 40 } },
    { label: 'app data', event: { type: 'recv.ApplicationData', data: new Uint8Array([0x30, 0x2d, 0x52, 0x54, 0x54]) } },
    {
      label: 'malformed',
      event: { type: 'recv.Malformed', error: new TlsError('decode_error', 'DecodeError', 'a message that does not parse') },
    },
    {
      label: 'EndOfEarlyData',
      event: { type: 'recv.EndOfEarlyData', msg: encodeHandshake({ type: 'end_of_early_data' }) },
      attack: 'endOfEarlyData',
      target: all.filter((s) => s !== 'connected'),
    },
    { label: 'app.write', event: { type: 'app.write', data: new Uint8Array([1, 2, 3]) } },
    { label: 'app.keyUpdate', event: { type: 'app.keyUpdate', requestPeerUpdate: true } },
    { label: 'app.close', event: { type: 'app.close' } },
  ];
}

export interface Material {
  /** A session from a first full handshake, and the server store that knows its ticket. */
  session: ClientSession;
  ticketState: ServerSessionState;
  clientCases: Array<ChartCase<ClientInput> & { machine: ClientChart }>;
  serverCases: Array<ChartCase<ServerInput> & { machine: ServerChart }>;
}

/** The clock of every level (a) run: now, so the test certificates are valid. */
export const NOW = Math.floor(Date.now() / 1000) * 1000;

export function clientConfig(ids: Identities, o: Partial<ClientConfig> = {}): ClientConfig {
  return defaultClientConfig({ serverName: 'localhost', verifyServerChain: ids.verifyServer, ...o });
}

export function serverConfig(ids: Identities, o: Partial<ServerConfig> = {}): ServerConfig {
  return defaultServerConfig({ certificates: [ids.server.certified], ...o });
}

const cin = (config: ClientConfig, seed: string): ClientInput => ({ config, env: statelessEnvironment(seed, NOW) });
const sin = (config: ServerConfig, seed: string): ServerInput => ({ config, env: statelessEnvironment(seed, NOW) });

function mustConnect(name: string, run: PureRun): PureRun {
  if (run.thrown !== undefined) throw new Error(`scenario ${name}: ${String(run.thrown)}`);
  return run;
}

const pskKeOnly = (ch: Unencoded<ClientHello>): Unencoded<ClientHello> => ({
  ...ch,
  extensions: mapExt(ch.extensions, 'psk_key_exchange_modes', () => ({
    type: 'psk_key_exchange_modes',
    modes: [PskKeyExchangeMode.psk_ke],
  })),
});

/**
 * A client chart that offers psk_ke only, in both ClientHellos (its binders
 * stay honest: recomputed over the rewritten hellos).
 */
export const pskKeOnlyClient: ClientChart = clientHelloProbe(pskKeOnly).provide({
  actions: {
    sendSecondClientHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      const patch = clientActions.sendSecondClientHello(context, event);
      const ch2 = patch.clientHello;
      const transcript = patch.transcript;
      if (!ch2 || !transcript) return patch;
      const prefix = transcript.slice(0, -1);
      const body = pskKeOnly(bodyOf(ch2));
      const rewritten = patch.offeredPsk ? bindClientHello(body, patch.offeredPsk, prefix, context.env.crypto) : encodeHandshake(body);
      const outbox = (patch.outbox ?? []).map((c) => (c.kind === 'sendHandshake' && c.raw === ch2.raw ? { ...c, raw: rewritten.raw } : c));
      return { ...patch, clientHello: rewritten, transcript: [...prefix, rewritten.raw], outbox };
    }),
  },
});

/** A client chart that offers early_data (before pre_shared_key, which stays last). */
export const earlyDataClient: ClientChart = clientHelloProbe((ch) => {
  const exts = [...ch.extensions];
  const last = exts.at(-1)?.type === 'pre_shared_key_client' ? exts.length - 1 : exts.length;
  exts.splice(last, 0, { type: 'early_data' });
  return { ...ch, extensions: exts };
});

export function buildMaterial(ids: Identities): Material {
  // A first full handshake: the ticket every resumption below offers.
  const first = mustConnect(
    'first',
    runPurePair({ client: cin(clientConfig(ids), 'client-0'), server: sin(serverConfig(ids), 'server-0') }),
  );
  const session = first.sessions[0];
  const [ticketHex, ticketState] = [...first.store.entries()].find(([k]) => session && k === toHex(session.ticket)) ?? [];
  if (!session || !ticketHex || !ticketState) throw new Error('the first handshake gave no ticket');
  const storeWithTicket = () => new Map([[ticketHex, ticketState]]);

  const afterConnected = (side: 'client' | 'server'): Array<{ side: 'client' | 'server'; event: TlsEvent }> => [
    { side, event: { type: 'app.write', data: new Uint8Array([0x68, 0x69]) } },
    { side, event: { type: 'app.keyUpdate', requestPeerUpdate: true } },
  ];

  // ------------------------------------------------------------------ client charts
  const clientCases: Material['clientCases'] = [];
  {
    const withPsk = cin(clientConfig(ids, { session, clientCertificate: ids.client.certified }), 'client-psk');
    const plain = cin(clientConfig(ids), 'client-plain');
    for (const [name, input] of [
      ['client offering a ticket', withPsk],
      ['client without a ticket', plain],
    ] as const) {
      const offers = input.config.session !== undefined;
      const scen: Array<[string, ServerInput, Map<string, ServerSessionState>]> = [
        ['full', sin(serverConfig(ids), 'server-a'), new Map()],
        ['full+CR', sin(serverConfig(ids, { requestClientCertificate: true, verifyClientChain: ids.verifyClient }), 'server-b'), new Map()],
        ['hrr', sin(serverConfig(ids, { forceHelloRetry: true }), 'server-c'), offers ? storeWithTicket() : new Map()],
        ['hrr-group', sin(serverConfig(ids, { groups: [NamedGroup.secp256r1] }), 'server-d'), new Map()],
      ];
      if (offers) scen.push(['resumed', sin(serverConfig(ids), 'server-e'), storeWithTicket()]);
      const runs = scen.map(
        ([s, server, store]) =>
          [s, mustConnect(s, runPurePair({ client: input, server, store, after: afterConnected('server') }))] as const,
      );
      const alphabet = new Map<string, LabelledEvent>();
      const scenarios = runs.map(([s, r]) => ({ name: s, events: labelled(s, r.toClient) }));
      for (const sc of scenarios) addAll(alphabet, sc.events);
      addAll(alphabet, commonEvents('client'));
      const full = runs.find(([s]) => s === 'full')?.[1] as PureRun;
      const hrr = runs.find(([s]) => s === 'hrr')?.[1] as PureRun;
      addAll(alphabet, clientAttacks(ids, full, hrr, runs.find(([s]) => s === 'resumed')?.[1]));
      clientCases.push({ name, input, machine: clientMachine, alphabet: [...alphabet.values()], scenarios });
    }
  }

  // ------------------------------------------------------------------ server charts
  const serverCases: Material['serverCases'] = [];
  {
    const plain = cin(clientConfig(ids), 'client-plain');
    const withPsk = cin(clientConfig(ids, { session }), 'client-psk');
    const withCert = cin(clientConfig(ids, { session, clientCertificate: ids.client.certified }), 'client-cert');
    const stranger = cin(clientConfig(ids, { clientCertificate: ids.stranger.certified }), 'client-stranger');
    const inputs: Array<[string, ServerInput]> = [
      ['server (defaults)', sin(serverConfig(ids), 'server-a')],
      [
        'server requesting a client certificate',
        sin(serverConfig(ids, { requestClientCertificate: true, verifyClientChain: ids.verifyClient }), 'server-b'),
      ],
      [
        'server requiring a client certificate',
        sin(
          serverConfig(ids, { requestClientCertificate: true, requireClientCertificate: true, verifyClientChain: ids.verifyClient }),
          'server-f',
        ),
      ],
      ['server forcing HelloRetryRequest', sin(serverConfig(ids, { forceHelloRetry: true }), 'server-c')],
      ['server with only SHA-384 suites', sin(serverConfig(ids, { cipherSuites: [CipherSuite.TLS_AES_256_GCM_SHA384] }), 'server-g')],
    ];
    const expired: ServerSessionState = { ...ticketState, issuedAtMs: NOW - ticketState.lifetimeS * 1000 - 1 };
    const otherSni: ServerSessionState = { ...ticketState, serverName: 'other.example' };
    for (const [name, server] of inputs) {
      const auth = server.config.requestClientCertificate;
      const scen: Array<[string, PureRun]> = [];
      const run = (
        s: string,
        client: ClientInput,
        opts: {
          store?: Map<string, ServerSessionState>;
          resolve?: (id: Uint8Array, f: ServerSessionState | undefined) => ServerSessionState | undefined;
          clientMachine?: ClientChart;
        } = {},
      ) => scen.push([s, mustConnect(s, runPurePair({ client, server, ...opts, after: afterConnected('client') }))]);
      run('full', plain);
      run('resumed', auth ? withCert : withPsk, { store: storeWithTicket() });
      run('unknown ticket', withPsk, { resolve: () => undefined });
      run('expired ticket', withPsk, { resolve: () => expired });
      run('ticket for another SNI', withPsk, { resolve: () => otherSni });
      run('psk_ke only', withPsk, { store: storeWithTicket(), clientMachine: pskKeOnlyClient });
      run('early data offered', withPsk, { store: storeWithTicket(), clientMachine: earlyDataClient });
      if (auth) {
        run('full with client certificate', withCert);
        run('untrusted client certificate', stranger);
      }
      const alphabet = new Map<string, LabelledEvent>();
      const scenarios = scen.map(([s, r]) => ({ name: s, events: labelled(s, r.toServer) }));
      for (const sc of scenarios) {
        // psk_ke-only and early-data hellos are labelled so the alert table knows they must not fail.
        const attack: AttackKind | undefined =
          sc.name === 'psk_ke only' ? 'pskKeOnly' : sc.name === 'early data offered' ? 'earlyData' : undefined;
        addAll(
          alphabet,
          sc.events.map((e) => (attack && e.event.type === 'recv.ClientHello' ? { ...e, attack, target: ['expectClientHello'] } : e)),
        );
      }
      addAll(alphabet, commonEvents('server'));
      addAll(alphabet, serverAttacks(scen));
      serverCases.push({ name, input: server, machine: serverMachine, alphabet: [...alphabet.values()], scenarios });
    }
  }
  return { session, ticketState, clientCases, serverCases };
}

function clientAttacks(ids: Identities, full: PureRun, hrr: PureRun, resumed: PureRun | undefined): LabelledEvent[] {
  const out: LabelledEvent[] = [];
  const sh = find(full.toClient, 'server_hello');
  const hello = ['expectServerHello', 'expectServerHelloAfterRetry'];
  const shVariant = (label: string, attack: AttackKind, fn: (b: Unencoded<ServerHello>) => Unencoded<ServerHello>) =>
    out.push({ label, attack, target: hello, event: { type: 'recv.ServerHello', msg: reencode(sh, fn) } });
  shVariant('SH session id altered', 'serverHelloSessionIdMismatch', (b) => ({
    ...b,
    legacySessionIdEcho: flipLast(b.legacySessionIdEcho.length ? b.legacySessionIdEcho : new Uint8Array(1)),
  }));
  shVariant('SH unoffered suite', 'serverHelloUnofferedSuite', (b) => ({ ...b, cipherSuite: 0x1304 }));
  shVariant('SH with a cookie', 'serverHelloExtraExtension', (b) => ({
    ...b,
    extensions: [...b.extensions, { type: 'cookie', cookie: new Uint8Array([7]) }],
  }));
  shVariant('SH without key_share', 'serverHelloNoKeyShare', (b) => ({
    ...b,
    extensions: mapExt(b.extensions, 'key_share_server', () => undefined),
  }));
  shVariant('SH with a zero x25519 share', 'serverHelloInvalidShare', (b) => ({
    ...b,
    extensions: mapExt(b.extensions, 'key_share_server', () => ({
      type: 'key_share_server',
      share: { group: NamedGroup.x25519, keyExchange: new Uint8Array(32) },
    })),
  }));
  shVariant('SH without supported_versions', 'serverHelloNoSupportedVersions', (b) => ({
    ...b,
    extensions: mapExt(b.extensions, 'supported_versions_server', () => undefined),
  }));
  if (resumed) {
    const rsh = find(resumed.toClient, 'server_hello');
    out.push({
      label: 'SH selecting identity 1',
      attack: 'serverHelloUnofferedPsk',
      target: hello,
      event: {
        type: 'recv.ServerHello',
        msg: reencode(rsh, (b) => ({
          ...b,
          extensions: mapExt(b.extensions, 'pre_shared_key_server', () => ({ type: 'pre_shared_key_server', selectedIdentity: 1 })),
        })),
      },
    });
    out.push({
      label: 'resumed Finished flipped',
      attack: 'flippedFinished',
      target: ['expectServerFinished'],
      event: {
        type: 'recv.Finished',
        msg: reencode(find(resumed.toClient, 'finished'), (b) => ({ ...b, verifyData: flipLast(b.verifyData) })),
      },
    });
  }
  const h = find(hrr.toClient, 'server_hello');
  const hrrVariant = (label: string, attack: AttackKind, fn: (b: Unencoded<ServerHello>) => Unencoded<ServerHello>) =>
    out.push({ label, attack, target: ['expectServerHello'], event: { type: 'recv.ServerHello', msg: reencode(h, fn) } });
  hrrVariant('HRR for the share already sent', 'helloRetryForSentShare', (b) => ({
    ...b,
    extensions: [...b.extensions.filter((e) => e.type !== 'cookie'), { type: 'key_share_hrr', selectedGroup: NamedGroup.x25519 }],
  }));
  hrrVariant('HRR for an unoffered group', 'helloRetryUnofferedGroup', (b) => ({
    ...b,
    extensions: [...b.extensions.filter((e) => e.type !== 'cookie'), { type: 'key_share_hrr', selectedGroup: 0x001e }],
  }));
  hrrVariant('HRR changing nothing', 'helloRetryChangesNothing', (b) => ({
    ...b,
    extensions: b.extensions.filter((e) => e.type !== 'cookie'),
  }));
  const ee = find(full.toClient, 'encrypted_extensions');
  out.push({
    label: 'EE with early_data',
    attack: 'acceptedEarlyData',
    target: ['expectEncryptedExtensions'],
    event: {
      type: 'recv.EncryptedExtensions',
      msg: reencode<EncryptedExtensions>(ee, (b) => ({ ...b, extensions: [...b.extensions, { type: 'early_data' }] })),
    },
  });
  const cert = find(full.toClient, 'certificate');
  const certStates = ['expectCertificateOrCertificateRequest', 'expectCertificate'];
  out.push({
    label: 'untrusted Certificate',
    attack: 'untrustedCertificate',
    target: certStates,
    event: {
      type: 'recv.Certificate',
      msg: reencode<Certificate>(cert, (b) => ({
        ...b,
        entries: ids.stranger.certified.chain.map((certData) => ({ certData, extensions: [] })),
      })),
    },
  });
  out.push({
    label: 'empty Certificate',
    attack: 'emptyCertificate',
    target: certStates,
    event: { type: 'recv.Certificate', msg: reencode<Certificate>(cert, (b) => ({ ...b, entries: [] })) },
  });
  const cv = find(full.toClient, 'certificate_verify');
  out.push({
    label: 'CV signature flipped',
    attack: 'flippedSignature',
    target: ['expectCertificateVerify'],
    event: { type: 'recv.CertificateVerify', msg: reencode<CertificateVerify>(cv, (b) => ({ ...b, signature: flipLast(b.signature) })) },
  });
  out.push({
    label: 'CV with a P-256 scheme',
    attack: 'signatureSchemeMismatch',
    target: ['expectCertificateVerify'],
    event: {
      type: 'recv.CertificateVerify',
      msg: reencode<CertificateVerify>(cv, (b) => ({ ...b, algorithm: SignatureScheme.ecdsa_secp256r1_sha256 })),
    },
  });
  const fin = find(full.toClient, 'finished');
  out.push({
    label: 'Finished flipped',
    attack: 'flippedFinished',
    target: ['expectServerFinished'],
    event: { type: 'recv.Finished', msg: reencode<Finished>(fin, (b) => ({ ...b, verifyData: flipLast(b.verifyData) })) },
  });
  const nst = find(full.toClient, 'new_session_ticket');
  out.push({
    label: 'NST with max_early_data_size',
    event: {
      type: 'recv.NewSessionTicket',
      msg: reencode<NewSessionTicket>(nst, (b) => ({ ...b, extensions: [{ type: 'early_data_ticket', maxEarlyDataSize: 16384 }] })),
    },
  });
  return out;
}

function serverAttacks(scen: Array<[string, PureRun]>): LabelledEvent[] {
  const out: LabelledEvent[] = [];
  const get = (name: string) => scen.find(([s]) => s === name)?.[1];
  const resumed = get('resumed');
  if (resumed) {
    const chEvent = resumed.toServer.find((d) => d.event.type === 'recv.ClientHello')?.event;
    if (chEvent?.type === 'recv.ClientHello') {
      const ch = chEvent.msg;
      const psk = findExtension(ch.extensions, 'pre_shared_key_client');
      if (psk) {
        const raw = patchBinders(ch.raw, psk.binders.map(flipLast));
        const bad = {
          ...ch,
          raw,
          extensions: mapExt(ch.extensions, 'pre_shared_key_client', () => ({ ...psk, binders: psk.binders.map(flipLast) })),
        };
        // The binder is checked only by a server that takes the PSK at once (RFC 8446 §4.2.11): one that
        // answers with a HelloRetryRequest checks the second hello's, one that cannot use the ticket none.
        const retried = resumed.toServer.filter((d) => d.event.type === 'recv.ClientHello').length > 1;
        const checksAtOnce = resumed.server.context.resumed && !retried;
        out.push(
          checksAtOnce
            ? { label: 'CH binder flipped', attack: 'badBinder', target: ['expectClientHello'], event: { ...chEvent, msg: bad } }
            : { label: 'CH binder flipped', event: { ...chEvent, msg: bad } },
        );
        out.push({
          label: 'CH without psk_key_exchange_modes',
          attack: 'pskWithoutModes',
          target: ['expectClientHello', 'expectSecondClientHello'],
          event: {
            ...chEvent,
            msg: reencode<ClientHello>(ch, (b) => ({ ...b, extensions: mapExt(b.extensions, 'psk_key_exchange_modes', () => undefined) })),
          },
        });
      }
      // After a retry: the second ClientHello replays the first one's binder, or drops the cookie.
      const chs = resumed.toServer.filter((d) => d.event.type === 'recv.ClientHello');
      const second = chs[1]?.event;
      if (second?.type === 'recv.ClientHello' && psk) {
        const ch2 = second.msg;
        out.push({
          label: 'CH2 with the stale binder of CH1',
          attack: 'staleBinder',
          target: ['expectSecondClientHello'],
          event: {
            ...second,
            msg: {
              ...ch2,
              raw: patchBinders(ch2.raw, psk.binders),
              extensions: mapExt(ch2.extensions, 'pre_shared_key_client', (e) =>
                e.type === 'pre_shared_key_client' ? { ...e, binders: psk.binders } : e,
              ),
            },
          },
        });
        out.push({
          label: 'CH2 without the cookie',
          attack: 'missingCookie',
          target: ['expectSecondClientHello'],
          event: {
            ...second,
            msg: reencode<ClientHello>(ch2, (b) => ({ ...b, extensions: mapExt(b.extensions, 'cookie', () => undefined) })),
          },
        });
      }
    }
  }
  for (const [s, r] of scen) {
    const fins = r.toServer.filter((d) => d.event.type === 'recv.Finished');
    for (const f of fins) {
      if (f.event.type !== 'recv.Finished') continue;
      out.push({
        label: `${s}: client Finished flipped`,
        attack: 'flippedFinished',
        target: ['expectClientFinished'],
        event: { type: 'recv.Finished', msg: reencode<Finished>(f.event.msg, (b) => ({ ...b, verifyData: flipLast(b.verifyData) })) },
      });
    }
    const cv = r.toServer.find((d) => d.event.type === 'recv.CertificateVerify')?.event;
    if (cv?.type === 'recv.CertificateVerify') {
      out.push({
        label: `${s}: client CV flipped`,
        attack: 'flippedSignature',
        target: ['expectClientCertificateVerify'],
        event: {
          type: 'recv.CertificateVerify',
          msg: reencode<CertificateVerify>(cv.msg, (b) => ({ ...b, signature: flipLast(b.signature) })),
        },
      });
      out.push({
        label: `${s}: client CV with a P-256 scheme`,
        attack: 'signatureSchemeMismatch',
        target: ['expectClientCertificateVerify'],
        event: {
          type: 'recv.CertificateVerify',
          msg: reencode<CertificateVerify>(cv.msg, (b) => ({ ...b, algorithm: SignatureScheme.ecdsa_secp256r1_sha256 })),
        },
      });
    }
  }
  const stranger = get('untrusted client certificate');
  const cert = stranger?.toServer.find((d) => d.event.type === 'recv.Certificate')?.event;
  if (cert)
    out.push({ label: 'untrusted client Certificate', attack: 'untrustedCertificate', target: ['expectClientCertificate'], event: cert });
  return out;
}
