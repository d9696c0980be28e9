/** What the client statechart remembers between events. */

import type { EarlySecret, HandshakeSecret, MasterSecret } from '../../crypto/keyschedule.js';
import type { KeyPair } from '../../crypto/provider.js';
import type { SuiteInfo } from '../../crypto/suites.js';
import type { FinishedVerified, SignatureVerified } from '../../crypto/witness.js';
import type { ClientSession } from '../../tickets/types.js';
import type { CertificateRequest, ClientHello, ServerHello } from '../../wire/types.js';
import { type CommonContext, commonDefaults } from '../common.js';
import type { ClientConfig, Environment } from '../types.js';

export interface ClientInput {
  config: ClientConfig;
  env: Environment;
}

/** The ticket offered in the ClientHello most recently sent. */
export interface OfferedPsk {
  session: ClientSession;
  suite: SuiteInfo;
}

export interface ClientContext extends CommonContext {
  config: ClientConfig;
  clientRandom: Uint8Array;
  legacySessionId: Uint8Array;
  keyShares: KeyPair[];
  clientHello: ClientHello | undefined;
  clientHello1: ClientHello | undefined;
  helloRetryRequest: ServerHello | undefined;
  offeredPsk: OfferedPsk | undefined;
  /** true once a ServerHello selected our PSK. */
  resumed: boolean;
  group: number | undefined;
  earlySecret: EarlySecret | undefined;
  handshakeSecret: HandshakeSecret | undefined;
  masterSecret: MasterSecret | undefined;
  clientHandshakeSecret: Uint8Array | undefined;
  serverHandshakeSecret: Uint8Array | undefined;
  exporterSecret: Uint8Array | undefined;
  resumptionSecret: Uint8Array | undefined;
  alpn: string | undefined;
  certificateRequest: CertificateRequest | undefined;
  peerChain: Uint8Array[];
  peerSpki: Uint8Array | undefined;
  ccsSent: boolean;
  /** Witnesses: values only the verifying functions can mint. */
  serverSignature: SignatureVerified | undefined;
  serverFinished: FinishedVerified | undefined;
  ticketsReceived: number;
}

export function initialClientContext(input: ClientInput): ClientContext {
  // Assigned into the common fields, not spread with them: on this V8 each property added to a
  // spread copy costs about 1 µs (~40 µs for this context). (XState copies it into a dictionary-mode
  // object either way; the engine gives the chart a fast copy: see Connection's constructor.)
  return Object.assign(commonDefaults(input.env), {
    config: input.config,
    clientRandom: new Uint8Array(0),
    legacySessionId: new Uint8Array(0),
    keyShares: [],
    clientHello: undefined,
    clientHello1: undefined,
    helloRetryRequest: undefined,
    offeredPsk: undefined,
    resumed: false,
    group: undefined,
    earlySecret: undefined,
    handshakeSecret: undefined,
    masterSecret: undefined,
    clientHandshakeSecret: undefined,
    serverHandshakeSecret: undefined,
    exporterSecret: undefined,
    resumptionSecret: undefined,
    alpn: undefined,
    certificateRequest: undefined,
    peerChain: [],
    peerSpki: undefined,
    ccsSent: false,
    serverSignature: undefined,
    serverFinished: undefined,
    ticketsReceived: 0,
  });
}
