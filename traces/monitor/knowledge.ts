/**
 * What the monitor knows of one recorded side, from public material only:
 * the hellos it sent and received, the transcript (every handshake message in
 * order, as both ends hash it, with ClientHello1 replaced by message_hash
 * after a HelloRetryRequest, RFC 8446 §4.4.1), the key of the peer's
 * certificate, and whether a ChangeCipherSpec, the peer's Finished and
 * close_notify went by. It grows along the replay: with what the side sends
 * (outbound steps) and with what it accepted (inbound steps the chart did not
 * refuse).
 */
import { fromHex } from '../../crypto/bytes.js';
import { nobleProvider } from '../../crypto/noble.js';
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { messageHashMessage } from '../../crypto/transcript.js';
import { parseLeafOnly } from '../../engine/config.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake } from '../../wire/handshake.js';
import type { CertificateRequest, ClientHello, DecodeFailure, HandshakeMessage, ServerHello } from '../../wire/types.js';
import type { Role, TraceStep } from '../format.js';

export interface Knowledge {
  readonly role: Role;
  /** The ClientHello most recently sent (client) or accepted (server), and the first one. */
  clientHello: ClientHello | undefined;
  clientHello1: ClientHello | undefined;
  /** The HelloRetryRequest sent (server) or accepted (client). */
  helloRetry: ServerHello | undefined;
  /** The ServerHello (not a HelloRetryRequest) sent (server) or accepted (client). */
  serverHello: ServerHello | undefined;
  /** The CertificateRequest sent (server) or accepted (client). */
  certificateRequest: CertificateRequest | undefined;
  /** Raw handshake messages hashed into the transcript so far. */
  transcript: Uint8Array[];
  /** The peer's certificate chain and its leaf key, once its Certificate was accepted. */
  peerChain: Uint8Array[];
  peerSpki: Uint8Array | undefined;
  ccsReceived: boolean;
  /** The peer's Finished was accepted (its verification is one of the outcomes taken from the trace). */
  peerFinished: boolean;
  /** close_notify sent by the recorded side / received from the peer (RFC 8446 §6.1). */
  closeNotifySent: boolean;
  closeNotifyReceived: boolean;
}

export function emptyKnowledge(role: Role): Knowledge {
  return {
    role,
    clientHello: undefined,
    clientHello1: undefined,
    helloRetry: undefined,
    serverHello: undefined,
    certificateRequest: undefined,
    transcript: [],
    peerChain: [],
    peerSpki: undefined,
    ccsReceived: false,
    peerFinished: false,
    closeNotifySent: false,
    closeNotifyReceived: false,
  };
}

/** The negotiated suite: the ServerHello's, else the HelloRetryRequest's (§4.1.4 fixes it). */
export const suiteOf = (k: Knowledge): SuiteInfo | undefined => {
  const code = k.serverHello?.cipherSuite ?? k.helloRetry?.cipherSuite;
  return code === undefined ? undefined : suiteInfo(code);
};

/** The ServerHello selected a PSK (§4.2.11). */
export const isResumed = (k: Knowledge): boolean =>
  k.serverHello !== undefined && findExtension(k.serverHello.extensions, 'pre_shared_key_server') !== undefined;

/** Decode a recorded message; Finished needs the suite's hash length. */
export function decodeRecorded(hex: string, k: Knowledge): ReturnType<typeof decodeHandshake> {
  const hashLen = suiteOf(k)?.hashLen;
  return decodeHandshake(fromHex(hex), hashLen === undefined ? {} : { hashLen });
}

/** Post-handshake messages are not part of the handshake transcript (§4.4.1, §4.6). */
const POST_HANDSHAKE = new Set<HandshakeMessage['type']>(['new_session_ticket', 'key_update']);

function hash(k: Knowledge, msg: HandshakeMessage): void {
  if (POST_HANDSHAKE.has(msg.type)) return;
  if (msg.type === 'server_hello' && msg.isHelloRetryRequest) {
    // §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by message_hash(ClientHello1).
    const suite = suiteInfo(msg.cipherSuite);
    const [ch1] = k.transcript;
    if (suite && ch1 && k.transcript.length === 1) k.transcript = [messageHashMessage(suite.hash, ch1, nobleProvider)];
  }
  k.transcript = [...k.transcript, msg.raw];
}

function noteServerHello(k: Knowledge, sh: ServerHello): void {
  if (sh.isHelloRetryRequest) k.helloRetry = sh;
  else k.serverHello = sh;
}

function noteClientHello(k: Knowledge, ch: ClientHello): void {
  k.clientHello1 ??= ch;
  k.clientHello = ch;
}

/**
 * What the side itself sent: its hellos (which shape what it may receive) and its transcript.
 * A handshake message the codec refuses teaches nothing: its failure is returned.
 */
export function learnSent(k: Knowledge, step: TraceStep): DecodeFailure | undefined {
  if (step.kind === 'alert' && step.alert?.description === 'close_notify') k.closeNotifySent = true;
  if (step.kind !== 'handshake' || !step.message) return undefined;
  const d = decodeRecorded(step.message.hex, k);
  if (!d.ok) return d.error;
  const msg = d.value;
  if (msg.type === 'client_hello' && k.role === 'client') noteClientHello(k, msg);
  if (msg.type === 'server_hello' && k.role === 'server') noteServerHello(k, msg);
  if (msg.type === 'certificate_request' && k.role === 'server') k.certificateRequest = msg;
  hash(k, msg);
  return undefined;
}

/** What the side accepted (the chart did not refuse it) becomes part of what the monitor knows. */
export function learnReceived(k: Knowledge, step: TraceStep, msg: HandshakeMessage | undefined): void {
  if (step.kind === 'change_cipher_spec') k.ccsReceived = true;
  if (step.kind === 'alert' && step.alert?.description === 'close_notify') k.closeNotifyReceived = true;
  if (!msg) return;
  if (msg.type === 'client_hello' && k.role === 'server') noteClientHello(k, msg);
  if (msg.type === 'server_hello' && k.role === 'client') noteServerHello(k, msg);
  if (msg.type === 'certificate_request' && k.role === 'client') k.certificateRequest = msg;
  if (msg.type === 'certificate') {
    k.peerChain = msg.entries.map((e) => e.certData);
    // The leaf's key is public: with it the chart's own CertificateVerify judge can run (§4.4.3).
    const leaf = parseLeafOnly(k.peerChain, new Date(0));
    k.peerSpki = leaf.ok ? leaf.leafSpki : undefined;
  }
  if (msg.type === 'finished') k.peerFinished = true;
  hash(k, msg);
}
