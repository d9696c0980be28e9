/** What the server statechart remembers between events. */
import type { MasterSecret } from '../../crypto/keyschedule.js';
import type { BinderVerified, FinishedVerified, SignatureVerified } from '../../crypto/witness.js';
import type { ServerSessionState } from '../../tickets/types.js';
import type { ClientHello, KeyShareEntry, ServerHello } from '../../wire/types.js';
import { type CommonContext, commonDefaults } from '../common.js';
import type { Environment, ServerConfig } from '../types.js';

export interface ServerInput {
  config: ServerConfig;
  env: Environment;
}

/** A ticket that left with the server's flight (config.earlyTickets), not yet in the store. */
export interface PendingTicket {
  ticket: Uint8Array;
  state: ServerSessionState;
}

export interface SelectedPsk {
  index: number;
  state: ServerSessionState;
}

export interface ServerContext extends CommonContext {
  config: ServerConfig;
  clientRandom: Uint8Array;
  clientHello1: ClientHello | undefined;
  clientHello: ClientHello | undefined;
  helloRetryRequest: ServerHello | undefined;
  group: number | undefined;
  /** The key share the server sent (public): fresh for every handshake, resumption included. */
  serverShare: KeyShareEntry | undefined;
  selectedPsk: SelectedPsk | undefined;
  resumed: boolean;
  /** The client offered psk_dhe_ke: only then are tickets sent (a psk_ke-only client could not use them). */
  offersPskDheKe: boolean;
  earlyDataOffered: boolean;
  serverName: string | undefined;
  alpn: string | undefined;
  masterSecret: MasterSecret | undefined;
  clientHandshakeSecret: Uint8Array | undefined;
  serverHandshakeSecret: Uint8Array | undefined;
  clientApplicationSecret: Uint8Array | undefined;
  exporterSecret: Uint8Array | undefined;
  resumptionSecret: Uint8Array | undefined;
  /** Tickets sent with the server's flight, kept in the store once the client Finished verified. */
  pendingTickets: readonly PendingTicket[];
  clientCertificateRequested: boolean;
  peerChain: Uint8Array[];
  peerSpki: Uint8Array | undefined;
  ccsSent: boolean;
  /** Witnesses: values only the verifying functions can mint. */
  binder: BinderVerified | undefined;
  clientSignature: SignatureVerified | undefined;
  clientFinished: FinishedVerified | undefined;
}

export function initialServerContext(input: ServerInput): ServerContext {
  // Assigned into the common fields, not spread with them: on this V8 each property added to a
  // spread copy costs about 1 µs (~40 µs for this context). (XState copies it into a dictionary-mode
  // object either way; the engine gives the chart a fast copy: see Connection's constructor.)
  return Object.assign(commonDefaults(input.env), {
    config: input.config,
    clientRandom: new Uint8Array(0),
    clientHello1: undefined,
    clientHello: undefined,
    helloRetryRequest: undefined,
    group: undefined,
    serverShare: undefined,
    selectedPsk: undefined,
    resumed: false,
    offersPskDheKe: false,
    earlyDataOffered: false,
    serverName: undefined,
    alpn: undefined,
    masterSecret: undefined,
    clientHandshakeSecret: undefined,
    serverHandshakeSecret: undefined,
    clientApplicationSecret: undefined,
    exporterSecret: undefined,
    resumptionSecret: undefined,
    pendingTickets: [],
    clientCertificateRequested: false,
    peerChain: [],
    peerSpki: undefined,
    ccsSent: false,
    binder: undefined,
    clientSignature: undefined,
    clientFinished: undefined,
  });
}
