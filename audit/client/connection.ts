/**
 * One connection of the probing server of `tlschart audit client`: a TLS 1.3
 * server made of tlschart's codec, record layer and key schedule, driven
 * step by step by a check, so that it can answer in ways tlschart's own
 * server never does (a PSK ServerHello without key_share, a selected_identity
 * out of range, a Certificate after a PSK ServerHello, early_data in
 * EncryptedExtensions that was not offered, a wrong or missing Finished,
 * tickets with lifetime 0 or an empty ticket field) while it still
 * understands everything the client sends: it holds every key, decrypts the
 * client's flight and its 0-RTT records, and verifies its Finished.
 *
 * It never judges; it records. Every record sent and received is kept in
 * `log` with the plaintext of each message, from which `trace.ts` builds the
 * trace of the audited client's side. In the log, `out` is what the probing
 * server sent and `in` what the audited client sent.
 */
import { randomBytes } from 'node:crypto';
import { concat, constantTimeEqual } from '../../crypto/bytes.js';
import { computeSharedSecret, generateKeyPair, type KeyPair } from '../../crypto/kex.js';
import { finishedVerifyData, nextApplicationTrafficSecret, resumptionPsk, trafficKeys } from '../../crypto/keyschedule.js';
import { certificateVerifyInput } from '../../crypto/signature.js';
import type { SuiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import type { CertifiedKey } from '../../machines/types.js';
import { RecordLayer } from '../../record/layer.js';
import { AlertDescription, type AlertName } from '../../wire/alerts.js';
import { decodeHandshake, encodeHandshake, hrrRandom } from '../../wire/handshake.js';
import { type Extension, type HandshakeMessage, type ServerHello, TLS12, TLS13 } from '../../wire/types.js';
import { type EndpointOptions, type InEvent, type InRecord, ProbeEndpoint, type ProbeEpoch } from '../probe/endpoint.js';
import { type ParsedHello, parseClientHello } from './hello.js';
import { applicationSecrets, clientEarlyTrafficSecret, earlySecret, handshakeSecrets, P, resumptionMasterSecret } from './schedule.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** What the ServerHello flight looks like: a full handshake, a resumption, or one precise deviation. */
export interface FlightPlan {
  suite: SuiteInfo;
  /** The group of our key share; undefined sends no key_share (psk_ke). */
  group: number | undefined;
  /** The client's share for `group`. */
  clientShare: Uint8Array | undefined;
  /** A PSK ServerHello: the selected_identity sent, and the PSK the keys are derived from. */
  psk?: { selectedIdentity: number; key: Uint8Array };
  /** full: Certificate + CertificateVerify; none: a resumed flight; after-psk / verify-after-psk: the deviations. */
  authentication: 'full' | 'none' | 'after-psk' | 'verify-after-psk';
  /** early_data in EncryptedExtensions. */
  earlyData: boolean;
  /** valid, flipped (last bit of verify_data), or skipped (application data under the handshake keys instead). */
  finished: 'valid' | 'flipped' | 'skipped';
  alpn: string | undefined;
  /** Acknowledge SNI with an empty server_name in EncryptedExtensions. */
  sniAck: boolean;
}

/** A NewSessionTicket to send. */
export interface TicketSpec {
  lifetimeS: number;
  /** max_early_data_size of an early_data extension; undefined: none. */
  maxEarlyDataSize?: number;
  /** Add an extension of a code no TLS registry assigns. */
  unknownExtension?: boolean;
  /** Send a zero-length ticket field, which ticket<1..2^16-1> forbids (§4.6.1). */
  empty?: boolean;
}

/** A ticket as sent, with the PSK it stands for. */
export interface SentTicket {
  ticket: Uint8Array;
  nonce: Uint8Array;
  psk: Uint8Array;
  suite: SuiteInfo;
  lifetimeS: number;
  ageAdd: number;
  maxEarlyDataSize: number | undefined;
  unknownExtension: boolean;
  empty: boolean;
  /** When its record was handed to the socket. */
  sentAtMs: number;
}

/** How the client answered our flight. */
export type FlightAnswer = 'finished' | 'bad-finished' | 'alert' | 'end' | 'timeout' | 'unreadable' | 'unexpected';

export const UNKNOWN_TICKET_EXTENSION = 0x7777;

export class AuditedConnection extends ProbeEndpoint {
  private early: RecordLayer | undefined;

  /** The ClientHellos received (the second after a HelloRetryRequest). */
  readonly hellos: { parsed: ParsedHello; at: number; prefix: Uint8Array[] }[] = [];
  helloRetryRequest: ServerHello | undefined;
  serverHello: ServerHello | undefined;
  plan: FlightPlan | undefined;
  private transcript: Uint8Array[] = [];
  private handshake: { client: Uint8Array; server: Uint8Array; secret: Uint8Array } | undefined;
  private app: { client: Uint8Array; server: Uint8Array; master: Uint8Array } | undefined;
  private resumptionSecret: Uint8Array | undefined;
  /** Our key pair for the ServerHello key share. */
  serverShare: KeyPair | undefined;
  /** Whether the client's Finished verified (undefined: none received). */
  clientFinishedValid: boolean | undefined;
  /** Whether an EndOfEarlyData arrived. */
  endOfEarlyData = false;
  /** 0-RTT records the client sent that opened under its early traffic keys, and their plaintext bytes. */
  earlyData = { records: 0, bytes: 0 };
  /** 0-RTT records skipped without keys to open them. */
  earlySkipped = { records: 0, bytes: 0 };
  readonly tickets: SentTicket[] = [];
  /** The client's application data, as text (the first KiB), to answer an HTTP request. */
  private received = '';

  constructor(o: EndpointOptions) {
    super('server', o);
  }

  get resumed(): boolean {
    return this.plan?.psk !== undefined;
  }

  get lastHello(): ParsedHello | undefined {
    return this.hellos.at(-1)?.parsed;
  }

  // ------------------------------------------------------------ sending

  /** One handshake message under the current write keys; `inTranscript` false for post-handshake messages. */
  private sendHandshake(raw: Uint8Array, name: string, inTranscript = true): void {
    this.emit({ kind: 'handshake', name, message: raw, epoch: this.writeEpoch, records: this.layer.writeHandshake(raw) });
    if (inTranscript) this.transcript.push(raw);
  }

  sendAlert(level: number, description: AlertName): void {
    if (this.transport.ended) return;
    this.emit({
      kind: 'alert',
      level,
      description,
      epoch: this.writeEpoch,
      records: this.layer.writeAlert(level, AlertDescription[description]),
    });
  }

  private setWrite(epoch: ProbeEpoch, suite: SuiteInfo, secret: Uint8Array): void {
    this.layer.setWriteKeys(suite, trafficKeys(suite, secret, P), epoch);
    this.writeEpoch = epoch;
  }

  private setRead(epoch: ProbeEpoch, suite: SuiteInfo, secret: Uint8Array): void {
    this.layer.setReadKeys(suite, trafficKeys(suite, secret, P), epoch);
    this.readEpoch = epoch;
  }

  /** The dummy ChangeCipherSpec after our first handshake message, when the client sent a legacy_session_id (D.4). */
  private middleboxCcs(hello: ParsedHello): void {
    if (hello.hello.legacySessionId.length > 0 && !this.ccsSent) this.sendChangeCipherSpec();
  }

  /**
   * Answer the first ClientHello with a HelloRetryRequest (§4.1.4) for
   * `group` (undefined: no key_share, a cookie instead) under `suite`.
   */
  sendHelloRetryRequest(suite: SuiteInfo, group: number | undefined): void {
    const first = this.lastHello;
    if (!first) throw new Error('HelloRetryRequest before a ClientHello');
    const extensions: Extension[] = [{ type: 'supported_versions_server', version: TLS13 }];
    if (group !== undefined) extensions.push({ type: 'key_share_hrr', selectedGroup: group });
    else extensions.push({ type: 'cookie', cookie: rng(16) });
    const hrr = encodeHandshake<ServerHello>({
      type: 'server_hello',
      isHelloRetryRequest: true,
      legacyVersion: TLS12,
      random: hrrRandom(),
      legacySessionIdEcho: first.hello.legacySessionId,
      cipherSuite: suite.code,
      legacyCompressionMethod: 0,
      extensions,
    });
    this.helloRetryRequest = hrr;
    this.sendHandshake(hrr.raw, 'hello_retry_request');
    // §4.4.1: the transcript goes on from message_hash(ClientHello1) and the HelloRetryRequest.
    this.transcript = [messageHashMessage(suite.hash, first.hello.raw, P), hrr.raw];
    this.middleboxCcs(first);
    this.early = undefined;
    // Early data sent with the first hello can never be read now; the second hello ends it (§4.2.10).
    this.layer.skipEarlyData(1 << 20);
  }

  /** The transcript before the current ClientHello (empty, or message_hash + HelloRetryRequest). */
  get helloPrefix(): Uint8Array[] {
    return this.helloRetryRequest ? this.transcript.slice(0, 2) : [];
  }

  /**
   * Open the 0-RTT records that follow a ClientHello offering early_data,
   * with the early traffic keys of the PSK the client names first (§4.2.10).
   */
  expectEarlyData(suite: SuiteInfo, psk: Uint8Array): void {
    const hello = this.lastHello;
    if (!hello) return;
    const secret = clientEarlyTrafficSecret(suite, earlySecret(suite, psk), transcriptHash(suite.hash, [hello.hello.raw], P));
    const layer = new RecordLayer({ role: 'server', provider: P });
    layer.setReadKeys(suite, trafficKeys(suite, secret, P), 'early');
    this.early = layer;
  }

  /**
   * ServerHello … Finished as `plan` says; then the client's handshake keys
   * for reading. With `pauseAfter`, the flight stops after that message and
   * `pause` waits for the client's reaction: a client that refuses it has
   * nothing of ours left unread (a socket closed with unread data is reset,
   * which can lose the alert sent just before), and one that reacts gets no
   * more. Resolves false when the client reacted during the pause.
   */
  async sendFlight(
    plan: FlightPlan,
    certificate: CertifiedKey,
    scheme: number | undefined,
    pauseAfter?: 'server_hello' | 'encrypted_extensions' | 'certificate' | 'certificate_verify',
    pause?: () => Promise<boolean>,
  ): Promise<boolean> {
    const hello = this.lastHello;
    if (!hello) throw new Error('a flight before a ClientHello');
    this.plan = plan;
    const { suite } = plan;
    const extensions: Extension[] = [{ type: 'supported_versions_server', version: TLS13 }];
    let ecdhe: Uint8Array = new Uint8Array(suite.hashLen); // psk_ke: Hash.length zeros (§7.1)
    if (plan.group !== undefined && plan.clientShare) {
      const pair = generateKeyPair(plan.group, rng);
      const shared = computeSharedSecret(plan.group, pair.privateKey, plan.clientShare);
      if (!shared.ok) throw new InvalidClientShare(shared.error.message);
      ecdhe = shared.value;
      this.serverShare = pair;
      extensions.push({ type: 'key_share_server', share: { group: plan.group, keyExchange: pair.publicKey } });
    }
    if (plan.psk) extensions.push({ type: 'pre_shared_key_server', selectedIdentity: plan.psk.selectedIdentity });
    const sh = encodeHandshake<ServerHello>({
      type: 'server_hello',
      isHelloRetryRequest: false,
      legacyVersion: TLS12,
      random: rng(32),
      legacySessionIdEcho: hello.hello.legacySessionId,
      cipherSuite: suite.code,
      legacyCompressionMethod: 0,
      extensions,
    });
    this.serverHello = sh;
    if (!this.helloRetryRequest) this.transcript = [];
    this.transcript.push(hello.hello.raw);
    this.sendHandshake(sh.raw, 'server_hello');
    const early = earlySecret(suite, plan.psk?.key);
    const hs = handshakeSecrets(suite, early, ecdhe, transcriptHash(suite.hash, this.transcript, P));
    this.handshake = { client: hs.client, server: hs.server, secret: hs.handshake };
    // The client's alerts about the ServerHello come in plaintext; anything after it under its handshake keys.
    this.setRead('handshake', suite, hs.client);
    const stopHere = async (name: typeof pauseAfter): Promise<boolean> => name === pauseAfter && pause !== undefined && (await pause());
    if (await stopHere('server_hello')) return false;
    this.middleboxCcs(hello);
    this.setWrite('handshake', suite, hs.server);

    const ee: Extension[] = [];
    if (plan.sniAck) ee.push({ type: 'server_name', hostName: undefined });
    if (plan.alpn !== undefined) ee.push({ type: 'alpn', protocols: [plan.alpn] });
    if (plan.earlyData) ee.push({ type: 'early_data' });
    this.sendHandshake(encodeHandshake({ type: 'encrypted_extensions', extensions: ee }).raw, 'encrypted_extensions');
    if (await stopHere('encrypted_extensions')) return false;

    if (plan.authentication !== 'none') {
      if (plan.authentication !== 'verify-after-psk') {
        const cert = encodeHandshake({
          type: 'certificate',
          certificateRequestContext: new Uint8Array(0),
          entries: certificate.chain.map((certData) => ({ certData, extensions: [] })),
        });
        this.sendHandshake(cert.raw, 'certificate');
        if (await stopHere('certificate')) return false;
      }
      if (scheme !== undefined) {
        const signature = certificate.key.sign(scheme, certificateVerifyInput('server', transcriptHash(suite.hash, this.transcript, P)));
        this.sendHandshake(encodeHandshake({ type: 'certificate_verify', algorithm: scheme, signature }).raw, 'certificate_verify');
        if (await stopHere('certificate_verify')) return false;
      }
    }
    if (plan.finished === 'skipped') {
      // The client's next record should be its alert: application data before the server Finished (§4, Appendix A.1).
      this.sendApplicationData(new TextEncoder().encode('application data where the server Finished belongs\n'));
    } else {
      const verifyData = finishedVerifyData(suite, hs.server, transcriptHash(suite.hash, this.transcript, P), P);
      if (plan.finished === 'flipped') verifyData[verifyData.length - 1] = (verifyData[verifyData.length - 1] as number) ^ 1;
      this.sendHandshake(encodeHandshake({ type: 'finished', verifyData }).raw, 'finished');
      const app = applicationSecrets(suite, hs.handshake, transcriptHash(suite.hash, this.transcript, P));
      this.app = app;
      this.setWrite('application', suite, app.server);
    }
    return true;
  }

  /** NewSessionTickets (§4.6.1), each PSK derived from the resumption secret. */
  sendTickets(specs: readonly TicketSpec[]): SentTicket[] {
    const suite = this.plan?.suite;
    if (!suite || !this.resumptionSecret) return [];
    const out: SentTicket[] = [];
    for (const spec of specs) {
      const nonce = rng(8);
      const ticket = spec.empty ? new Uint8Array(0) : rng(32);
      const add = rng(4);
      const ageAdd = (((add[0] as number) << 24) | ((add[1] as number) << 16) | ((add[2] as number) << 8) | (add[3] as number)) >>> 0;
      const extensions: Extension[] = [];
      if (spec.maxEarlyDataSize !== undefined) extensions.push({ type: 'early_data_ticket', maxEarlyDataSize: spec.maxEarlyDataSize });
      if (spec.unknownExtension)
        extensions.push({ type: 'unknown', code: UNKNOWN_TICKET_EXTENSION, data: Uint8Array.of(0x74, 0x6c, 0x73, 0x63) });
      const raw = spec.empty
        ? emptyTicketMessage(spec.lifetimeS, ageAdd, nonce)
        : encodeHandshake({
            type: 'new_session_ticket',
            ticketLifetime: spec.lifetimeS,
            ticketAgeAdd: ageAdd,
            ticketNonce: nonce,
            ticket,
            extensions,
          }).raw;
      this.sendHandshake(raw, 'new_session_ticket', false);
      const t: SentTicket = {
        ticket,
        nonce,
        psk: resumptionPsk(suite, this.resumptionSecret, nonce, P),
        suite,
        lifetimeS: spec.lifetimeS,
        ageAdd,
        maxEarlyDataSize: spec.maxEarlyDataSize,
        unknownExtension: spec.unknownExtension === true,
        empty: spec.empty === true,
        sentAtMs: this.now(),
      };
      this.tickets.push(t);
      out.push(t);
    }
    return out;
  }

  // ------------------------------------------------------------ receiving

  /** An application_data record while the early keys are on: 0-RTT data, EndOfEarlyData or an alert, opened with them (§4.2.10). */
  protected override openEarly(bytes: Uint8Array): InEvent | undefined {
    if (!this.early) return undefined;
    this.early.receive(bytes);
    const item = this.early.next();
    if (item && item.kind !== 'error') {
      const at = this.now();
      const records: InRecord[] = [{ bytes, epoch: 'early' }];
      if (item.kind === 'application_data') {
        this.earlyData.records++;
        this.earlyData.bytes += item.data.length;
        return this.logged({ dir: 'in', at, kind: 'application_data', length: item.data.length, records });
      }
      if (item.kind === 'handshake') {
        const d = decodeHandshake(item.raw);
        const ev = this.logged({
          dir: 'in',
          at,
          kind: 'handshake',
          raw: item.raw,
          message: d.ok ? d.value : undefined,
          encrypted: true,
          records,
        });
        if (d.ok && d.value.type === 'end_of_early_data') {
          this.endOfEarlyData = true;
          this.transcript.push(item.raw);
        }
        return ev;
      }
      if (item.kind === 'alert') return this.alertIn(at, item.level, item.description, true, records);
    }
    // Not a 0-RTT record (or none any more): the handshake keys take over.
    this.early = undefined;
    return undefined;
  }

  protected onHandshake(raw: Uint8Array, encrypted: boolean, at: number): InEvent {
    let message: HandshakeMessage | undefined;
    if (raw[0] === 1) {
      const p = parseClientHello(raw);
      if (p.ok) {
        message = p.value.hello;
        this.hellos.push({ parsed: p.value, at, prefix: this.helloPrefix });
        // 0-RTT records we hold no key for are skipped, as a server that refuses early data does (§4.2.10).
        if (p.value.extensions.some((e) => e.code === 42)) this.layer.skipEarlyData(1 << 20);
      }
    } else {
      const d = decodeHandshake(raw, this.plan ? { hashLen: this.plan.suite.hashLen } : {});
      message = d.ok ? d.value : undefined;
    }
    const ev = this.logged({ dir: 'in', at, kind: 'handshake', raw, message, encrypted, records: this.takePending() });
    if (message) this.onClientMessage(message);
    return ev;
  }

  protected override onApplicationData(data: Uint8Array): void {
    if (this.received.length < 1024) this.received += new TextDecoder('latin1').decode(data.subarray(0, 1024));
  }

  protected onEarlyDataSkipped(bytes: number, at: number): InEvent {
    this.earlySkipped.records++;
    this.earlySkipped.bytes += bytes;
    const records = this.takePending().map((r): InRecord => ({ ...r, epoch: 'early' }));
    return this.logged({ dir: 'in', at, kind: 'application_data', length: bytes, records });
  }

  private onClientMessage(m: HandshakeMessage): void {
    const suite = this.plan?.suite;
    if (m.type === 'end_of_early_data') {
      this.endOfEarlyData = true;
      this.transcript.push(m.raw);
    } else if (m.type === 'finished' && suite && this.handshake && this.clientFinishedValid === undefined) {
      const expected = finishedVerifyData(suite, this.handshake.client, transcriptHash(suite.hash, this.transcript, P), P);
      this.clientFinishedValid = constantTimeEqual(expected, m.verifyData);
      this.transcript.push(m.raw);
      if (this.clientFinishedValid && this.app) {
        this.resumptionSecret = resumptionMasterSecret(suite, this.app.master, transcriptHash(suite.hash, this.transcript, P));
        this.setRead('application', suite, this.app.client);
      }
    } else if (m.type === 'key_update' && suite && this.app && this.readEpoch === 'application') {
      this.app.client = nextApplicationTrafficSecret(suite, this.app.client, P);
      this.setRead('application', suite, this.app.client);
      if (m.requestUpdate === 1) {
        this.sendHandshake(encodeHandshake({ type: 'key_update', requestUpdate: 0 }).raw, 'key_update', false);
        this.app.server = nextApplicationTrafficSecret(suite, this.app.server, P);
        this.setWrite('application', suite, this.app.server);
      }
    }
  }

  // ------------------------------------------------------------ reading patterns

  /** Read until a ClientHello arrives (true) or the connection ends, fails or times out (false). */
  async readHello(until = this.deadline): Promise<boolean> {
    const before = this.hellos.length;
    for (;;) {
      const ev = await this.next(until);
      if (this.hellos.length > before) return true;
      if (!ev || ev.kind === 'end' || ev.kind === 'unreadable') return false;
      if (ev.kind === 'alert' && ev.description !== 'user_canceled') return false;
      if (ev.kind === 'handshake') return false; // something else than a ClientHello, or one that does not parse
    }
  }

  /** What a client event says about its answer to our flight; undefined: not an answer (CCS, 0-RTT data, EndOfEarlyData). */
  private answerOf(ev: InEvent): FlightAnswer | undefined {
    if (ev.kind === 'end') return 'end';
    if (ev.kind === 'unreadable') return 'unreadable';
    if (ev.kind === 'alert' && ev.description !== 'user_canceled') return ev.description === 'close_notify' ? 'end' : 'alert';
    if (ev.kind === 'alert' || ev.kind === 'change_cipher_spec') return undefined;
    if (ev.kind === 'application_data' && ev.records.every((r) => r.epoch === 'early')) return undefined;
    if (ev.kind === 'handshake' && ev.message?.type === 'end_of_early_data') return undefined;
    if (ev.kind === 'handshake' && ev.message?.type === 'finished') return this.clientFinishedValid ? 'finished' : 'bad-finished';
    return 'unexpected';
  }

  /** The answer the client gave during a pause of the flight (see sendFlight), if any. */
  answered: FlightAnswer | undefined;

  /**
   * Wait until `until` for the client to react to what was sent so far
   * (true, and `answered` says how); its ChangeCipherSpec and 0-RTT records
   * are not reactions.
   */
  async reacted(until: number): Promise<boolean> {
    for (;;) {
      const ev = await this.next(until);
      if (!ev) return false;
      const a = this.answerOf(ev);
      if (a === undefined) continue;
      this.answered = a;
      return true;
    }
  }

  /** Read the client's answer to our flight: its Finished, an alert, the end, or something else. */
  async readClientFlight(until = this.deadline): Promise<FlightAnswer> {
    if (this.answered !== undefined) return this.answered;
    for (;;) {
      const ev = await this.next(until);
      if (!ev) return 'timeout';
      const a = this.answerOf(ev);
      if (a !== undefined) return a;
    }
  }

  /**
   * After the handshake: answer an HTTP request with a short response (after
   * `holdMs` without a reaction, when the tickets are under test) and close;
   * otherwise close once the client has been quiet for `settleMs`, or answer
   * its close_notify. Then read until the client closes, so an alert
   * it sends about anything we sent (a ticket it refuses) is seen.
   */
  async serveApplication(settleMs: number, drainMs: number, body: string, holdMs = 0): Promise<void> {
    const drain = () => this.finish(this.now() + drainMs);
    for (;;) {
      const ev = await this.next(this.now() + settleMs);
      if (!ev) break;
      if (ev.kind === 'end' || ev.kind === 'unreadable') return drain();
      if (ev.kind === 'alert' && ev.level === 2) return drain();
      if (ev.kind === 'alert' && ev.description === 'close_notify') break;
      if (
        ev.kind === 'application_data' &&
        /^(GET|HEAD|POST|PUT|OPTIONS) \S+ HTTP\/1\.[01]\r?\n/.test(this.received) &&
        /\r?\n\r?\n/.test(this.received)
      ) {
        // A client may have sent its request before it read our tickets: give it the time to refuse one
        // before the response, which it would leave unread (its socket then resets and may lose the alert).
        if (holdMs > 0 && (await this.reacted(this.now() + holdMs))) return drain();
        const text = `${body}\n`;
        const head = this.received.startsWith('HEAD ');
        this.sendApplicationData(
          new TextEncoder().encode(
            `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${head ? '' : text}`,
          ),
        );
        break;
      }
    }
    await drain();
  }

  /** Our close_notify and FIN, then everything the client still says until it closes (or the deadline). */
  async finish(until = this.deadline): Promise<void> {
    if (!this.log.some((e) => e.dir === 'out' && e.kind === 'end')) this.close();
    while (!this.ended) {
      const ev = await this.next(until);
      if (!ev) break;
    }
    this.transport.destroy();
  }
}

/** The client's key share is not a valid public key of its group (the probing server answers illegal_parameter). */
export class InvalidClientShare extends Error {
  override readonly name = 'InvalidClientShare';
}

/** A NewSessionTicket whose ticket field is empty (ticket<1..2^16-1> forbids it), built by hand: the encoder refuses it. */
function emptyTicketMessage(lifetimeS: number, ageAdd: number, nonce: Uint8Array): Uint8Array {
  const body = concat(
    Uint8Array.of(lifetimeS >>> 24, (lifetimeS >>> 16) & 0xff, (lifetimeS >>> 8) & 0xff, lifetimeS & 0xff),
    Uint8Array.of(ageAdd >>> 24, (ageAdd >>> 16) & 0xff, (ageAdd >>> 8) & 0xff, ageAdd & 0xff),
    Uint8Array.of(nonce.length),
    nonce,
    Uint8Array.of(0, 0), // ticket: zero length
    Uint8Array.of(0, 0), // extensions: none
  );
  return concat(Uint8Array.of(4, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff), body);
}
