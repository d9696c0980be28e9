/**
 * Known attack traces from the literature, as fixed command sequences of the
 * model-based suite. They run first (fast-check `examples`), and the
 * mutation gate replays the ones aimed at each crypto guard against a chart
 * whose guard was made to always pass.
 *
 * - SKIP / SMACK (Beurdouche et al., "A Messy State of the Union", 2015):
 *   messages skipped so that authentication never happens — a client Finished
 *   without Certificate/CertificateVerify after a CertificateRequest, a
 *   server that skips CertificateVerify, or Certificate and CertificateVerify.
 * - Early ChangeCipherSpec (CVE-2014-0224 in OpenSSL): a CCS before the
 *   ClientHello; and a second CCS.
 * - Tampered Finished / CertificateVerify, a certificate nobody trusts.
 * - PSK misuse: a flipped binder, pre_shared_key not last, no
 *   psk_key_exchange_modes, a stale binder in the second ClientHello,
 *   psk_dhe_ke stripped, a psk_ke-only client, a replayed ClientHello or
 *   ticket, a ticket from another server, under another name, or expired.
 * - 0-RTT: early data under and over the skip limit, after a retry,
 *   EndOfEarlyData, early_data accepted by a server; application data
 *   before Finished; a Certificate after a PSK ServerHello.
 * - Early tickets (RFC 8446 §4.6.1): tickets that left with the flight of a
 *   connection the server then refused are never stored.
 */
import type { ServerSetup, WorldSetup } from '../arbitraries/config.js';
import { ALPN, GROUPS, SUITES } from '../arbitraries/config.js';
import { AdvanceClockCommand } from './commands/advance-clock.js';
import { AppDataBeforeFinishedCommand } from './commands/app-data-before-finished.js';
import { CertificateAfterPskCommand } from './commands/certificate-after-psk.js';
import { CloseCommand } from './commands/close.js';
import { CompleteHandshakeCommand } from './commands/complete-handshake.js';
import { ConnectCommand } from './commands/connect.js';
import { DeliverCommand } from './commands/deliver.js';
import { EarlyDataCommand } from './commands/early-data.js';
import { InjectEndOfEarlyDataCommand } from './commands/end-of-early-data.js';
import { ForceHelloRetryCommand } from './commands/force-hello-retry.js';
import type { Cmd } from './commands/index.js';
import { KeyUpdateCommand } from './commands/key-update.js';
import { MisbehavingPeerCommand } from './commands/misbehaving-peer.js';
import { ReconnectWithTicketCommand } from './commands/reconnect-with-ticket.js';
import { ReplayClientHelloCommand } from './commands/replay-client-hello.js';
import { ReplayTicketCommand } from './commands/replay-ticket.js';
import { StripPskDheKeCommand } from './commands/strip-psk-dhe-ke.js';
import { TamperHandshakeCommand } from './commands/tamper-handshake.js';
import { WriteDataCommand } from './commands/write-data.js';

export interface KnownAttack {
  name: string;
  setup: WorldSetup;
  commands: () => Cmd[];
  /** Crypto guards whose mutant (always passing) this trace must expose. */
  exposes: string[];
}

const server = (o: Partial<ServerSetup> = {}): ServerSetup => ({
  groups: [...GROUPS],
  cipherSuites: [...SUITES],
  alpn: [],
  ticketsPerHandshake: 2,
  ticketLifetimeS: 7200,
  forceHelloRetry: false,
  clientAuth: 'none',
  identity: 'ed25519',
  ...o,
});

export function knownSetup(o: { server?: Partial<ServerSetup>; clientCertificate?: boolean } = {}): WorldSetup {
  return {
    client: {
      groups: [...GROUPS],
      keyShareGroups: [GROUPS[0]],
      cipherSuites: [...SUITES],
      alpn: [...ALPN],
      compatibilityMode: true,
      clientCertificate: o.clientCertificate ?? true,
    },
    servers: { A: server({ alpn: ['http/1.1'], ...o.server }), B: server() },
  };
}

const complete = () => new CompleteHandshakeCommand();
const firstTicket = () => [new ConnectCommand('A', 'localhost'), complete()];
const resume = () => new ReconnectWithTicketCommand(0, 'issuer');
const auth = { server: { clientAuth: 'request' as const } };

export const KNOWN_ATTACKS: KnownAttack[] = [
  {
    name: 'SKIP: client Finished without Certificate/CertificateVerify after a CertificateRequest',
    setup: knownSetup(auth),
    commands: () => [new MisbehavingPeerCommand({ side: 'client', kind: 'skipCertificate' }, -1), complete()],
    exposes: [],
  },
  {
    name: 'SKIP: server skips CertificateVerify',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'skipCertificateVerify' }, -1), complete()],
    exposes: [],
  },
  {
    name: 'SMACK: server skips Certificate and CertificateVerify',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'skipCertificate' }, -1), complete()],
    exposes: [],
  },
  {
    name: 'early ChangeCipherSpec before the ClientHello',
    setup: knownSetup(),
    commands: () => [new ConnectCommand('A', 'localhost'), new TamperHandshakeCommand('earlyChangeCipherSpec'), complete()],
    exposes: [],
  },
  {
    name: 'a second ChangeCipherSpec to the client',
    setup: knownSetup(),
    commands: () => [
      new ConnectCommand('A', 'localhost'),
      new DeliverCommand('toServer', 1),
      new TamperHandshakeCommand('secondChangeCipherSpec'),
      complete(),
    ],
    exposes: [],
  },
  {
    name: 'server Finished with a flipped bit',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'flippedFinished' }, -1), complete()],
    exposes: ['client.isServerFinishedValid'],
  },
  {
    name: 'client Finished with a flipped bit',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'client', kind: 'flippedFinished' }, -1), complete()],
    exposes: ['server.isClientFinishedValid'],
  },
  {
    name: 'server CertificateVerify with a flipped bit',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'flippedSignature' }, -1), complete()],
    exposes: ['client.isServerSignatureValid'],
  },
  {
    name: 'server CertificateVerify under a scheme that does not fit its key',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'signatureSchemeMismatch' }, -1), complete()],
    exposes: ['client.isSignatureSchemeAcceptable'],
  },
  {
    name: 'server certificate nobody trusts',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'untrustedCertificate' }, -1), complete()],
    exposes: ['client.isServerCertificateTrusted'],
  },
  {
    name: 'client CertificateVerify with a flipped bit',
    setup: knownSetup(auth),
    commands: () => [new MisbehavingPeerCommand({ side: 'client', kind: 'flippedSignature' }, -1), complete()],
    exposes: ['server.isClientSignatureValid'],
  },
  {
    name: 'client CertificateVerify under a scheme that does not fit its key',
    setup: knownSetup(auth),
    commands: () => [new MisbehavingPeerCommand({ side: 'client', kind: 'signatureSchemeMismatch' }, -1), complete()],
    exposes: ['server.isSignatureSchemeAcceptable'],
  },
  {
    name: 'client certificate nobody trusts',
    setup: knownSetup(auth),
    commands: () => [new MisbehavingPeerCommand({ side: 'client', kind: 'untrustedCertificate' }, -1), complete()],
    exposes: ['server.isClientCertificateTrusted'],
  },
  {
    name: 'ServerHello with another legacy_session_id_echo',
    setup: knownSetup(),
    commands: () => [
      new ConnectCommand('A', 'localhost'),
      new DeliverCommand('toServer', 1),
      new TamperHandshakeCommand('serverHelloSessionIdMismatch'),
      complete(),
    ],
    exposes: ['client.hasServerHelloProblem'],
  },
  {
    name: 'HelloRetryRequest for the share already sent',
    setup: knownSetup(),
    commands: () => [
      new ForceHelloRetryCommand(),
      new ConnectCommand('A', 'localhost'),
      new DeliverCommand('toServer', 1),
      new TamperHandshakeCommand('helloRetryForSentShare'),
      complete(),
    ],
    exposes: ['client.isValidHelloRetryRequest'],
  },
  {
    name: 'ClientHello with a flipped binder',
    setup: knownSetup(),
    commands: () => [...firstTicket(), resume(), new TamperHandshakeCommand('badBinder'), complete()],
    exposes: ['server.hasValidBinder'],
  },
  {
    name: 'pre_shared_key not the last extension',
    setup: knownSetup(),
    commands: () => [...firstTicket(), resume(), new TamperHandshakeCommand('pskNotLast'), complete()],
    exposes: [],
  },
  {
    name: 'pre_shared_key without psk_key_exchange_modes',
    setup: knownSetup(),
    commands: () => [...firstTicket(), resume(), new TamperHandshakeCommand('pskWithoutModes'), complete()],
    exposes: ['server.hasClientHelloProblem'],
  },
  {
    name: 'second ClientHello with the stale binder of the first',
    setup: knownSetup(),
    commands: () => [
      ...firstTicket(),
      new ForceHelloRetryCommand(),
      resume(),
      new DeliverCommand('toServer', 1),
      new DeliverCommand('toClient', 2),
      new TamperHandshakeCommand('staleBinder'),
      complete(),
    ],
    exposes: ['server.hasValidBinder'],
  },
  {
    name: 'psk_dhe_ke stripped from the modes in flight',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new StripPskDheKeCommand(true, 0, 'A'), complete()],
    exposes: [],
  },
  {
    name: 'a psk_ke-only client: full handshake, no tickets',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new StripPskDheKeCommand(false, 0, 'A'), complete()],
    exposes: [],
  },
  {
    name: 'resumption after a HelloRetryRequest, then a KeyUpdate and data',
    setup: knownSetup(),
    commands: () => [
      ...firstTicket(),
      new ForceHelloRetryCommand(),
      resume(),
      complete(),
      new KeyUpdateCommand('client', true),
      new WriteDataCommand('server', 300),
      new CloseCommand('client'),
    ],
    exposes: [],
  },
  {
    name: 'a replayed ClientHello with a used ticket',
    setup: knownSetup(),
    commands: () => [...firstTicket(), resume(), complete(), new ReplayClientHelloCommand(1, 'A'), complete()],
    exposes: [],
  },
  {
    name: 'a ticket offered twice',
    setup: knownSetup(),
    commands: () => [...firstTicket(), resume(), complete(), new ReplayTicketCommand(0, 'A'), complete()],
    exposes: [],
  },
  {
    name: "a ticket offered to another server's store",
    setup: knownSetup(),
    commands: () => [...firstTicket(), new ReconnectWithTicketCommand(0, { serverId: 'B', sni: 'localhost' }), complete()],
    exposes: [],
  },
  {
    name: 'a ticket offered under another SNI',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new ReconnectWithTicketCommand(0, { serverId: 'A', sni: 'other.example' }), complete()],
    exposes: [],
  },
  {
    name: 'an expired ticket',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new AdvanceClockCommand(7_200_001), resume(), complete()],
    exposes: [],
  },
  {
    name: 'a Certificate after a PSK ServerHello',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new CertificateAfterPskCommand(0), complete()],
    exposes: [],
  },
  {
    name: '0-RTT data under the skip limit',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new EarlyDataCommand(3000, 0, 'A'), complete()],
    exposes: [],
  },
  {
    name: '0-RTT data over the skip limit',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new EarlyDataCommand(20_000, 0, 'A'), complete()],
    exposes: [],
  },
  {
    name: '0-RTT data after a HelloRetryRequest',
    setup: knownSetup(),
    commands: () => [...firstTicket(), new ForceHelloRetryCommand(), new EarlyDataCommand(100, 0, 'A'), complete()],
    exposes: [],
  },
  {
    name: 'EndOfEarlyData without early data',
    setup: knownSetup(),
    commands: () => [new InjectEndOfEarlyDataCommand('A'), complete()],
    exposes: [],
  },
  {
    name: 'early_data accepted by a server',
    setup: knownSetup(),
    commands: () => [new MisbehavingPeerCommand({ side: 'server', kind: 'acceptedEarlyData' }, -1), complete()],
    exposes: [],
  },
  {
    name: 'application data before the client Finished',
    setup: knownSetup(),
    commands: () => [new AppDataBeforeFinishedCommand('A'), complete()],
    exposes: [],
  },
  {
    // The tickets came with the server's flight; the server refused what followed, so it never
    // stored them: offered later, they must not resume (a model that took every ticket the
    // client held for a stored one predicted a resumption here).
    name: 'early tickets of a connection the server refused before the client Finished',
    setup: knownSetup({ server: { earlyTickets: true } }),
    commands: () => [new InjectEndOfEarlyDataCommand('A'), resume(), complete()],
    exposes: [],
  },
];

/** The known attacks as fast-check examples of the model property: [setup, seed, commands]. */
export function knownAttackExamples(): Array<[WorldSetup, number, Iterable<Cmd>]> {
  return KNOWN_ATTACKS.map((a, i) => [a.setup, i, a.commands()]);
}
