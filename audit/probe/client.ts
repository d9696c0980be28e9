/**
 * A probe client: a TLS 1.3 client made of tlschart's codec, key schedule
 * and record layer, driven step by step by a check, so that it can send what
 * tlschart's own client never sends (psk_ke-only offers, bad binders, 0-RTT
 * data, EndOfEarlyData out of place, messages in any order) while still
 * understanding every answer: it derives the keys of whatever the server
 * chose, decrypts its flight, checks its Finished, and derives the PSK of
 * every ticket.
 *
 * It never decides anything about the protocol; it records. Every record
 * sent and received is kept in `log` (with the plaintext of each message),
 * from which `trace.ts` builds a trace in the project format.
 *
 * Reading: `next()` returns one item from the server at a time (a handshake
 * message, an alert, a ChangeCipherSpec, application data, a record that
 * cannot be read, or the end of the stream). Keys are installed as soon as
 * the message that changes them is read, so the records after it decrypt.
 */
import { concat, constantTimeEqual } from '../../crypto/bytes.js';
import { computeSharedSecret, type KeyPair } from '../../crypto/kex.js';
import {
  EarlySecret,
  finishedVerifyData,
  type HandshakeSecret,
  type MasterSecret,
  nextApplicationTrafficSecret,
  resumptionPsk,
  trafficKeys,
} from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { recordHeader } from '../../record/framing.js';
import { AlertDescription, type AlertName } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, encodeHandshake } from '../../wire/handshake.js';
import {
  type Certificate,
  ContentType,
  type EncryptedExtensions,
  type Extension,
  type HandshakeMessage,
  type NewSessionTicket,
  type ServerHello,
  TLS12,
} from '../../wire/types.js';
import { type EndpointOptions, type InEvent, ProbeEndpoint, type ProbeEpoch } from './endpoint.js';

/** The probe's crypto: tlschart's default provider (@noble), passed explicitly everywhere. */
const P = nobleProvider;

/** A ticket the probe received, with the PSK it stands for (RFC 8446 §4.6.1). */
export interface ProbeTicket {
  ticket: Uint8Array;
  nonce: Uint8Array;
  lifetimeS: number;
  ticketAgeAdd: number;
  /** max_early_data_size of its early_data extension; undefined without one. */
  maxEarlyDataSize: number | undefined;
  extensions: Extension[];
  psk: Uint8Array;
  suite: SuiteInfo;
  receivedAtMs: number;
  serverName: string | undefined;
  alpn: string | undefined;
  /**
   * Milliseconds from our Finished to this ticket; undefined if it was in hand before our Finished
   * left: sent with the server's flight, the server having computed our Finished itself (RFC 8446
   * §4.6.1), even if we read it only afterwards.
   */
  afterFinishedMs: number | undefined;
  /** The connection it came from (its label). */
  origin: string;
}

/** A PSK the probe offers, known well enough to derive keys if the server selects it. */
export interface OfferedSecret {
  psk: Uint8Array;
  suite: SuiteInfo;
}

export interface ProbeOptions extends EndpointOptions {
  serverName: string | undefined;
  alpn: string | undefined;
}

export interface HelloSend {
  raw: Uint8Array;
  /** Our key pairs, by the group of each key share sent. */
  keyShares: KeyPair[];
  /** The secret behind each offered identity, index by index (undefined: unknown / made up). */
  offered: (OfferedSecret | undefined)[];
  /** Send 0-RTT records under the first PSK's client_early_traffic_secret after this hello. */
  earlyData?: Uint8Array[];
}

/** Why a flight read stopped. */
export type FlightEnd = 'finished' | 'hello_retry_request' | 'alert' | 'end' | 'timeout' | 'unreadable';

export class ProbeConnection extends ProbeEndpoint {
  readonly tickets: ProbeTicket[] = [];
  readonly serverMessages: HandshakeMessage[] = [];

  private serverName: string | undefined;
  private alpn: string | undefined;

  // handshake state
  private transcript: Uint8Array[] = [];
  private clientHello1: Uint8Array | undefined;
  private keyShares: KeyPair[] = [];
  private offered: (OfferedSecret | undefined)[] = [];
  /** psk_key_exchange_modes of the last ClientHello sent (undefined: none sent or no such extension). */
  offeredModes: number[] | undefined;
  /** Whether the last ClientHello offered a PSK. */
  offeredPsk = false;
  private legacySessionId: Uint8Array = new Uint8Array(0);
  suite: SuiteInfo | undefined;
  helloRetryRequest: ServerHello | undefined;
  serverHello: ServerHello | undefined;
  encryptedExtensions: EncryptedExtensions | undefined;
  certificate: Certificate | undefined;
  certificateVerifySeen = false;
  certificateRequestSeen = false;
  /** Whether the server Finished verified (undefined: not received, or no keys to check it). */
  serverFinishedValid: boolean | undefined;
  /** Why the keys of the server's choice could not be derived, if so. */
  keysUnknown: string | undefined;
  private earlySecret: Uint8Array | undefined;
  private handshake: HandshakeSecret | undefined;
  private master: MasterSecret | undefined;
  private clientHandshakeSecret: Uint8Array | undefined;
  private serverHandshakeSecret: Uint8Array | undefined;
  private clientAppSecret: Uint8Array | undefined;
  private serverAppSecret: Uint8Array | undefined;
  private resumptionSecret: Uint8Array | undefined;
  private unresolvedTickets: { nst: NewSessionTicket; at: number }[] = [];
  /** When our Finished was sent. */
  finishedSentAt: number | undefined;
  /** chunksRead when our Finished was sent: a ticket read from no later chunk arrived before it. */
  private chunksAtFinished: number | undefined;

  constructor(options: ProbeOptions) {
    super('client', options);
    this.serverName = options.serverName;
    this.alpn = options.alpn;
  }

  // ------------------------------------------------------------ what happened

  get resumed(): boolean {
    return this.serverHello !== undefined && findExtension(this.serverHello.extensions, 'pre_shared_key_server') !== undefined;
  }

  get selectedIdentity(): number | undefined {
    return this.serverHello ? findExtension(this.serverHello.extensions, 'pre_shared_key_server')?.selectedIdentity : undefined;
  }

  /** The server's key share in its ServerHello, if any. */
  get serverKeyShare(): { group: number; keyExchange: Uint8Array } | undefined {
    return this.serverHello ? findExtension(this.serverHello.extensions, 'key_share_server')?.share : undefined;
  }

  get earlyDataAccepted(): boolean {
    return this.encryptedExtensions !== undefined && findExtension(this.encryptedExtensions.extensions, 'early_data') !== undefined;
  }

  get selectedAlpn(): string | undefined {
    return this.encryptedExtensions ? findExtension(this.encryptedExtensions.extensions, 'alpn')?.protocols[0] : undefined;
  }

  get serverFinishedReceived(): boolean {
    return this.serverMessages.some((m) => m.type === 'finished');
  }

  /** Whether the server's TLS version is 1.3 (supported_versions in its ServerHello or HelloRetryRequest). */
  get speaksTls13(): boolean | undefined {
    const sh = this.serverHello ?? this.helloRetryRequest;
    if (!sh) return undefined;
    return findExtension(sh.extensions, 'supported_versions_server')?.version === 0x0304;
  }

  // ------------------------------------------------------------ sending

  /** Send a ClientHello (the first, or the second after a HelloRetryRequest). */
  sendHello(hello: HelloSend): void {
    const decoded = decodeHandshake(hello.raw);
    const ch = decoded.ok && decoded.value.type === 'client_hello' ? decoded.value : undefined;
    const legacy = ch ? ch.legacySessionId : new Uint8Array(0);
    this.offeredModes = ch ? findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes : undefined;
    this.offeredPsk = ch ? findExtension(ch.extensions, 'pre_shared_key_client') !== undefined : false;
    this.writeEpoch = 'plaintext';
    this.legacySessionId = legacy;
    this.keyShares = hello.keyShares;
    this.offered = hello.offered;
    if (this.helloRetryRequest && this.clientHello1) {
      const suite = suiteInfo(this.helloRetryRequest.cipherSuite);
      if (suite) this.transcript = [messageHashMessage(suite.hash, this.clientHello1, P), this.helloRetryRequest.raw, hello.raw];
      else this.transcript = [hello.raw];
    } else {
      this.clientHello1 = hello.raw;
      this.transcript = [hello.raw];
    }
    const records =
      this.layer.writeEpoch === undefined ? this.layer.writeHandshake(hello.raw) : this.plaintextRecord(ContentType.handshake, hello.raw);
    this.emit({ kind: 'handshake', name: 'client_hello', message: hello.raw, epoch: 'plaintext', records });
    const first = hello.offered[0];
    if (hello.earlyData && first) {
      // D.4: offering early data, the middlebox ChangeCipherSpec comes right after the first ClientHello.
      if (this.legacySessionId.length > 0 && !this.ccsSent) this.sendChangeCipherSpec();
      const early = EarlySecret.create(first.suite, first.psk, P);
      this.earlySecret = early.clientEarlyTrafficSecret(transcriptHash(first.suite.hash, this.transcript, P));
      this.setWrite('early', first.suite);
      for (const data of hello.earlyData) this.sendApplicationData(data);
    }
  }

  private plaintextRecord(contentType: number, fragment: Uint8Array): Uint8Array {
    const out: Uint8Array[] = [];
    for (let o = 0; o < fragment.length || o === 0; o += 16384) {
      const part = fragment.subarray(o, o + 16384);
      out.push(concat(recordHeader(contentType, TLS12, part.length), part));
      if (fragment.length === 0) break;
    }
    return concat(...out);
  }

  /**
   * Switch our write keys to an epoch whose secret is known. Switching to the
   * epoch we already write in does nothing: its sequence number goes on (§5.3).
   */
  setWrite(epoch: ProbeEpoch, suiteOverride?: SuiteInfo): void {
    if (epoch === this.writeEpoch && epoch !== 'plaintext') return;
    const suite = suiteOverride ?? this.suite;
    const secret =
      epoch === 'early'
        ? this.earlySecret
        : epoch === 'handshake'
          ? this.clientHandshakeSecret
          : epoch === 'application'
            ? this.clientAppSecret
            : undefined;
    if (epoch === 'plaintext') {
      this.writeEpoch = 'plaintext';
      return;
    }
    if (!secret || !suite) throw new ProbeError(`no ${epoch} write keys: ${this.keysUnknown ?? 'the handshake did not get that far'}`);
    this.layer.setWriteKeys(suite, trafficKeys(suite, secret, P), epoch);
    this.writeEpoch = epoch;
  }

  /** Whether we hold the write keys of `epoch`. */
  canWrite(epoch: ProbeEpoch): boolean {
    if (epoch === 'plaintext') return true;
    return (epoch === 'early' ? this.earlySecret : epoch === 'handshake' ? this.clientHandshakeSecret : this.clientAppSecret) !== undefined;
  }

  get currentWriteEpoch(): ProbeEpoch {
    return this.writeEpoch;
  }

  /** A handshake message under the current write epoch (plaintext framing when none is set). */
  sendHandshake(message: Uint8Array, name: string, options: { transcript?: boolean } = {}): void {
    const records =
      this.writeEpoch === 'plaintext' ? this.plaintextRecord(ContentType.handshake, message) : this.layer.writeHandshake(message);
    this.emit({ kind: 'handshake', name, message, epoch: this.writeEpoch, records });
    if (options.transcript) this.transcript.push(message);
  }

  override sendApplicationData(data: Uint8Array): void {
    if (this.writeEpoch === 'plaintext') throw new ProbeError('application data needs keys');
    super.sendApplicationData(data);
  }

  sendAlert(level: number, description: AlertName): void {
    const records =
      this.writeEpoch === 'plaintext'
        ? this.plaintextRecord(ContentType.alert, Uint8Array.of(level, AlertDescription[description]))
        : this.layer.writeAlert(level, AlertDescription[description]);
    this.emit({ kind: 'alert', level, description, epoch: this.writeEpoch, records });
  }

  /** A plaintext application_data record, whatever the keys (what a client must never send). */
  sendRecord(contentType: typeof ContentType.application_data, fragment: Uint8Array): void {
    const records = this.plaintextRecord(contentType, fragment);
    this.emit({ kind: 'application_data', length: fragment.length, epoch: 'plaintext', records });
  }

  /** After our KeyUpdate: the application write keys move to the next generation (§7.2). */
  updateWriteKeys(): void {
    const suite = this.suite;
    if (!suite || !this.clientAppSecret) throw new ProbeError('no application write keys to update');
    this.clientAppSecret = nextApplicationTrafficSecret(suite, this.clientAppSecret, P);
    this.layer.setWriteKeys(suite, trafficKeys(suite, this.clientAppSecret, P), 'application');
  }

  /** EndOfEarlyData under the early keys (RFC 8446 §4.5), part of the transcript. */
  sendEndOfEarlyData(): void {
    this.setWrite('early');
    this.sendHandshake(encodeHandshake({ type: 'end_of_early_data' }).raw, 'end_of_early_data', { transcript: true });
  }

  /** Our Finished for the transcript so far, under the handshake keys; `corrupt` flips its last bit. */
  clientFinished(corrupt = false): Uint8Array {
    const suite = this.suite;
    if (!suite || !this.clientHandshakeSecret) throw new ProbeError(`no handshake keys: ${this.keysUnknown ?? 'no ServerHello'}`);
    const verifyData = finishedVerifyData(suite, this.clientHandshakeSecret, transcriptHash(suite.hash, this.transcript, P), P);
    if (corrupt) verifyData[verifyData.length - 1] = (verifyData[verifyData.length - 1] as number) ^ 1;
    return encodeHandshake({ type: 'finished', verifyData }).raw;
  }

  /**
   * The client's second flight as RFC 8446 wants it: EndOfEarlyData if the
   * server accepted early data, the middlebox ChangeCipherSpec if we sent a
   * legacy_session_id, Finished; then the application keys.
   */
  sendFinished(options: { endOfEarlyData?: boolean; corrupt?: boolean } = {}): void {
    if (this.earlyDataAccepted && options.endOfEarlyData !== false && this.earlySecret) this.sendEndOfEarlyData();
    if (this.legacySessionId.length > 0 && !this.ccsSent) this.sendChangeCipherSpec();
    this.setWrite('handshake');
    const fin = this.clientFinished(options.corrupt === true);
    this.sendHandshake(fin, 'finished', { transcript: true });
    this.afterClientFinished();
  }

  /** Our Finished is in the transcript: the resumption secret and the application write keys. */
  afterClientFinished(): void {
    const suite = this.suite;
    if (!suite || !this.master) return;
    this.finishedSentAt = this.now();
    this.chunksAtFinished = this.chunksRead;
    this.resumptionSecret = this.master.resumptionMasterSecret(transcriptHash(suite.hash, this.transcript, P));
    if (this.clientAppSecret) this.setWrite('application');
    for (const t of this.unresolvedTickets.splice(0)) this.addTicket(t.nst, t.at);
  }

  // ------------------------------------------------------------ receiving

  protected onHandshake(raw: Uint8Array, encrypted: boolean, at: number): InEvent {
    const hashLen = this.suite?.hashLen;
    const d = decodeHandshake(raw, hashLen === undefined ? {} : { hashLen });
    const message = d.ok ? d.value : undefined;
    const ev = this.logged({ dir: 'in', at, kind: 'handshake', raw, message, encrypted, records: this.takePending() });
    if (message) this.onServerMessage(message, at);
    return ev;
  }

  /** A client's record layer never skips early data: treat it as a layer failure. */
  protected onEarlyDataSkipped(_bytes: number, at: number): InEvent {
    return this.unreadable(at, { alert: 'internal_error', reason: 'EarlyDataOnClient', message: 'early data skipped on a client' });
  }

  private onServerMessage(m: HandshakeMessage, at: number): void {
    this.serverMessages.push(m);
    switch (m.type) {
      case 'server_hello':
        if (m.isHelloRetryRequest) this.onHelloRetryRequest(m);
        else this.onServerHello(m);
        return;
      case 'encrypted_extensions':
        this.encryptedExtensions ??= m;
        this.transcript.push(m.raw);
        return;
      case 'certificate_request':
        this.certificateRequestSeen = true;
        this.transcript.push(m.raw);
        return;
      case 'certificate':
        this.certificate ??= m;
        this.transcript.push(m.raw);
        return;
      case 'certificate_verify':
        this.certificateVerifySeen = true;
        this.transcript.push(m.raw);
        return;
      case 'finished':
        this.onServerFinished(m.verifyData, m.raw);
        return;
      case 'new_session_ticket':
        if (this.resumptionSecret) this.addTicket(m, at);
        else this.unresolvedTickets.push({ nst: m, at });
        return;
      case 'key_update':
        this.onKeyUpdate(m.requestUpdate);
        return;
      default:
        return;
    }
  }

  private onHelloRetryRequest(hrr: ServerHello): void {
    this.helloRetryRequest = hrr;
    this.suite = suiteInfo(hrr.cipherSuite);
  }

  private onServerHello(sh: ServerHello): void {
    this.serverHello = sh;
    this.transcript.push(sh.raw);
    const suite = suiteInfo(sh.cipherSuite);
    if (!suite) {
      this.keysUnknown = `the server chose cipher suite 0x${sh.cipherSuite.toString(16)}, which the probe does not know`;
      return;
    }
    this.suite = suite;
    if (findExtension(sh.extensions, 'supported_versions_server')?.version !== 0x0304) {
      this.keysUnknown = 'the server did not select TLS 1.3';
      return;
    }
    const selected = findExtension(sh.extensions, 'pre_shared_key_server')?.selectedIdentity;
    let psk: Uint8Array | undefined;
    if (selected !== undefined) {
      const secret = this.offered[selected];
      if (!secret) {
        this.keysUnknown = `the server selected PSK identity ${selected}, for which the probe has no key`;
        return;
      }
      if (secret.suite.hash !== suite.hash) {
        this.keysUnknown = `the server selected a ${secret.suite.hash} PSK with a ${suite.hash} cipher suite`;
        return;
      }
      psk = secret.psk;
    }
    const ks = findExtension(sh.extensions, 'key_share_server');
    let ecdhe: Uint8Array;
    if (ks) {
      const mine = this.keyShares.find((k) => k.group === ks.share.group);
      if (!mine) {
        this.keysUnknown = `the server's key share is for group 0x${ks.share.group.toString(16)}, for which the probe sent no share`;
        return;
      }
      const shared = computeSharedSecret(mine.group, mine.privateKey, ks.share.keyExchange);
      if (!shared.ok) {
        this.keysUnknown = `the server's key share is invalid: ${shared.error.message}`;
        return;
      }
      ecdhe = shared.value;
    } else if (psk) {
      ecdhe = new Uint8Array(suite.hashLen); // psk_ke: the (EC)DHE input is Hash.length zeros (§7.1)
    } else {
      this.keysUnknown = 'the ServerHello has neither a key share nor a PSK';
      return;
    }
    const hs = EarlySecret.create(suite, psk, P).withSharedSecret(ecdhe);
    const helloHash = transcriptHash(suite.hash, this.transcript, P);
    this.handshake = hs;
    this.clientHandshakeSecret = hs.clientHandshakeTrafficSecret(helloHash);
    this.serverHandshakeSecret = hs.serverHandshakeTrafficSecret(helloHash);
    this.layer.setReadKeys(suite, trafficKeys(suite, this.serverHandshakeSecret, P), 'handshake');
    this.readEpoch = 'handshake';
  }

  private onServerFinished(verifyData: Uint8Array, raw: Uint8Array): void {
    const suite = this.suite;
    if (!suite || !this.serverHandshakeSecret || !this.handshake) {
      this.transcript.push(raw);
      return;
    }
    const expected = finishedVerifyData(suite, this.serverHandshakeSecret, transcriptHash(suite.hash, this.transcript, P), P);
    this.serverFinishedValid = constantTimeEqual(expected, verifyData);
    this.transcript.push(raw);
    this.master = this.handshake.toMasterSecret();
    const h = transcriptHash(suite.hash, this.transcript, P);
    this.clientAppSecret = this.master.clientApplicationTrafficSecret(h);
    this.serverAppSecret = this.master.serverApplicationTrafficSecret(h);
    this.layer.setReadKeys(suite, trafficKeys(suite, this.serverAppSecret, P), 'application');
    this.readEpoch = 'application';
  }

  private onKeyUpdate(requestUpdate: number): void {
    const suite = this.suite;
    if (!suite || !this.serverAppSecret) return;
    this.serverAppSecret = nextApplicationTrafficSecret(suite, this.serverAppSecret, P);
    this.layer.setReadKeys(suite, trafficKeys(suite, this.serverAppSecret, P), 'application');
    if (requestUpdate === 1 && this.clientAppSecret && this.writeEpoch === 'application') {
      this.sendHandshake(encodeHandshake({ type: 'key_update', requestUpdate: 0 }).raw, 'key_update');
      this.clientAppSecret = nextApplicationTrafficSecret(suite, this.clientAppSecret, P);
      this.layer.setWriteKeys(suite, trafficKeys(suite, this.clientAppSecret, P), 'application');
    }
  }

  private addTicket(nst: NewSessionTicket, at: number): void {
    const suite = this.suite;
    if (!suite || !this.resumptionSecret) return;
    const sent = this.finishedSentAt;
    // In hand before our Finished left: read before it, or from a chunk read no later than it.
    const afterFinishedMs = sent === undefined || at < sent || this.chunksRead === this.chunksAtFinished ? undefined : at - sent;
    this.tickets.push({
      ticket: nst.ticket,
      nonce: nst.ticketNonce,
      lifetimeS: nst.ticketLifetime,
      ticketAgeAdd: nst.ticketAgeAdd,
      maxEarlyDataSize: findExtension(nst.extensions, 'early_data_ticket')?.maxEarlyDataSize,
      extensions: nst.extensions,
      psk: resumptionPsk(suite, this.resumptionSecret, nst.ticketNonce, P),
      suite,
      receivedAtMs: at,
      serverName: this.serverName,
      alpn: this.selectedAlpn ?? this.alpn,
      afterFinishedMs,
      origin: this.label,
    });
  }

  // ------------------------------------------------------------ reading patterns

  /**
   * Read the server's answer to a ClientHello: until its Finished, a
   * HelloRetryRequest, a fatal alert, the end of the stream, a record we
   * cannot read, or `until`.
   */
  async readFlight(until = this.deadline): Promise<FlightEnd> {
    for (;;) {
      const ev = await this.next(until);
      if (!ev) return 'timeout';
      if (ev.kind === 'end') return 'end';
      if (ev.kind === 'unreadable') return 'unreadable';
      if (ev.kind === 'alert' && ev.description !== 'close_notify' && ev.description !== 'user_canceled') return 'alert';
      if (ev.kind === 'alert' && ev.description === 'close_notify') return 'end';
      if (ev.kind === 'handshake' && ev.message?.type === 'server_hello' && ev.message.isHelloRetryRequest) return 'hello_retry_request';
      if (ev.kind === 'handshake' && ev.message?.type === 'finished') return 'finished';
    }
  }

  /** Read until `count` tickets arrived, the server went quiet for `idleMs`, or something ended the connection. */
  async collectTickets(count: number, idleMs: number): Promise<void> {
    while (this.tickets.length + this.unresolvedTickets.length < count) {
      const ev = await this.next(this.now() + idleMs);
      if (!ev || ev.kind === 'end' || ev.kind === 'unreadable' || (ev.kind === 'alert' && ev.level === 2)) return;
    }
  }

  /** Read everything until the end of the stream, the server's close_notify (nothing follows it, §6.1), or the deadline. */
  async drain(until = this.deadline): Promise<void> {
    for (;;) {
      const ev = await this.next(until);
      if (!ev || ev.kind === 'end' || ev.kind === 'unreadable') return;
      if (ev.kind === 'alert' && (ev.description === 'close_notify' || ev.level === 2)) return;
    }
  }

  /**
   * End the connection the way that tells us how the server judged
   * everything we sent: our close_notify and FIN, then everything the server
   * still says until it closes. A server that processes what it received in
   * order sends the fatal alert caused by anything we sent before its answer
   * to our close_notify; no timing window is involved. A server that drops
   * queued work once it sees our FIN (tlschart's admission gate did so for a
   * ClientHello where a Finished was due, until it was fixed) shows as
   * "closed without an alert" instead.
   */
  async finish(until = this.deadline): Promise<void> {
    if (!this.ended) this.close();
    await this.drain(until);
    this.transport.destroy();
  }
}

/** A probe could not do what a check asked (no keys for an epoch, ...): a bug or an inconclusive check, never a peer failure. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
}
