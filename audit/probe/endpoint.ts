/**
 * The raw record plumbing of the audit's two hand-driven TLS endpoints: the
 * probe client (`client.ts`, which audits servers) and the probing server
 * (`../client/connection.ts`, which audits clients).
 *
 * Both keep every record they send and receive in `log`, read the peer one
 * item at a time with `next()` (a handshake message, an alert, a
 * ChangeCipherSpec, application data, a record that cannot be read, or the
 * end of the stream), and end the same way: close_notify then FIN (RFC 8446
 * §6.1). What differs — which messages they send, how they decode and follow
 * the peer's handshake, whether 0-RTT records are opened — stays in each
 * subclass, behind `onHandshake`, `onEarlyDataSkipped`, `openEarly` and
 * `onApplicationData`.
 */
import { concat } from '../../crypto/bytes.js';
import { nobleProvider } from '../../crypto/noble.js';
import { MAX_CIPHERTEXT_LENGTH } from '../../record/framing.js';
import { RecordLayer } from '../../record/layer.js';
import { AlertDescription, type AlertName, alertName } from '../../wire/alerts.js';
import { ContentType, type HandshakeMessage } from '../../wire/types.js';
import type { EndReason, Transport } from './transport.js';

/** The key epochs a record can be written or read under. */
export type ProbeEpoch = 'plaintext' | 'early' | 'handshake' | 'application';

export type OutEvent =
  | { dir: 'out'; at: number; kind: 'handshake'; name: string; message: Uint8Array; epoch: ProbeEpoch; records: Uint8Array }
  | { dir: 'out'; at: number; kind: 'change_cipher_spec'; epoch: 'plaintext'; records: Uint8Array }
  | { dir: 'out'; at: number; kind: 'alert'; level: number; description: string; epoch: ProbeEpoch; records: Uint8Array }
  | { dir: 'out'; at: number; kind: 'application_data'; length: number; epoch: ProbeEpoch; records: Uint8Array }
  | { dir: 'out'; at: number; kind: 'end' };

export interface InRecord {
  bytes: Uint8Array;
  epoch: ProbeEpoch | 'unknown';
}

export type InEvent =
  | {
      dir: 'in';
      at: number;
      kind: 'handshake';
      raw: Uint8Array;
      message: HandshakeMessage | undefined;
      encrypted: boolean;
      records: InRecord[];
    }
  | { dir: 'in'; at: number; kind: 'change_cipher_spec'; records: InRecord[] }
  | { dir: 'in'; at: number; kind: 'alert'; level: number; description: string; encrypted: boolean; records: InRecord[] }
  | { dir: 'in'; at: number; kind: 'application_data'; length: number; records: InRecord[] }
  /** A record we could not read: under keys we do not have, malformed, or the layer failed. */
  | { dir: 'in'; at: number; kind: 'unreadable'; error: { alert: string; reason: string; message: string }; records: InRecord[] }
  | { dir: 'in'; at: number; kind: 'end'; reason: EndReason };

export type WireEvent = OutEvent | InEvent;

/** What we send, as logged without its direction and time (which `emit` adds). */
type Sent = OutEvent extends infer E ? (E extends { kind: 'end' } ? never : E extends OutEvent ? Omit<E, 'dir' | 'at'> : never) : never;

export interface EndpointOptions {
  transport: Transport;
  /** Absolute deadline (ms since the epoch) of this connection. */
  deadline: number;
  label: string;
  now?: () => number;
}

/** One side of an audit connection: the record layer, the transport, and the log of everything that crossed it. */
export abstract class ProbeEndpoint {
  readonly label: string;
  readonly log: WireEvent[] = [];
  readonly deadline: number;
  /** The first fatal alert the peer sent, by name. */
  alertReceived: string | undefined;
  closeNotifyReceived = false;
  ended: EndReason | undefined;
  timedOut = false;

  protected readonly transport: Transport;
  protected readonly now: () => number;
  /** tlschart's default provider (@noble), passed explicitly everywhere. */
  protected readonly layer: RecordLayer;
  protected inBuf: Uint8Array = new Uint8Array(0);
  /** Chunks read from the transport so far: bytes in hand before some moment were read by then. */
  protected chunksRead = 0;
  protected readEpoch: ProbeEpoch = 'plaintext';
  protected writeEpoch: ProbeEpoch = 'plaintext';
  /** Whether our middlebox ChangeCipherSpec went out (RFC 8446 D.4: once). */
  protected ccsSent = false;
  private pending: InRecord[] = [];
  private passthrough = false;
  private layerDead = false;

  protected constructor(role: 'client' | 'server', options: EndpointOptions) {
    this.transport = options.transport;
    this.deadline = options.deadline;
    this.label = options.label;
    this.now = options.now ?? Date.now;
    this.layer = new RecordLayer({ role, provider: nobleProvider });
    this.layer.acceptPlaintextAlerts = true;
  }

  // ------------------------------------------------------------ sending

  /** An alert under the current write keys (each side frames it its own way). */
  abstract sendAlert(level: number, description: AlertName): void;

  /** Log what we send, then hand its records to the transport. */
  protected emit(sent: Sent): void {
    this.log.push({ dir: 'out', at: this.now(), ...sent });
    this.transport.write(sent.records);
  }

  sendChangeCipherSpec(): void {
    const records = this.layer.writeChangeCipherSpec();
    this.ccsSent = true;
    this.emit({ kind: 'change_cipher_spec', epoch: 'plaintext', records });
  }

  sendApplicationData(data: Uint8Array): void {
    this.emit({ kind: 'application_data', length: data.length, epoch: this.writeEpoch, records: this.layer.writeApplicationData(data) });
  }

  /** close_notify under the current keys, then the end of our stream (TCP FIN). */
  close(): void {
    if (!this.transport.ended) this.sendAlert(1, 'close_notify');
    this.transport.end();
    this.log.push({ dir: 'out', at: this.now(), kind: 'end' });
  }

  destroy(): void {
    this.transport.destroy();
  }

  // ------------------------------------------------------------ receiving

  /** The next item from the peer, or undefined at `until` (default: the connection's deadline). */
  async next(until = this.deadline): Promise<InEvent | undefined> {
    const deadline = Math.min(until, this.deadline);
    for (;;) {
      if (!this.layerDead) {
        const item = this.layer.next();
        if (item) return this.onItem(item);
      }
      const early = this.takeRecord();
      if (early) return early;
      if (early === null) continue;
      if (this.ended) return undefined;
      const chunk = await this.transport.read(deadline);
      if (chunk === undefined) {
        if (this.now() >= this.deadline) this.timedOut = true;
        return undefined;
      }
      if (chunk instanceof Uint8Array) {
        this.chunksRead++;
        this.inBuf = concat(this.inBuf, chunk);
        continue;
      }
      this.ended = chunk;
      return this.logged({ dir: 'in', at: this.now(), kind: 'end', reason: chunk });
    }
  }

  /**
   * A whole application_data record the subclass may open itself (as 0-RTT
   * data under the early keys): the event, or undefined to hand the record
   * to the record layer.
   */
  protected openEarly?(bytes: Uint8Array): InEvent | undefined;

  /** A handshake message the record layer reassembled: decode it, log it, follow it. */
  protected abstract onHandshake(raw: Uint8Array, encrypted: boolean, at: number): InEvent;

  /** 0-RTT records the record layer skipped (only a server is told to skip them). */
  protected abstract onEarlyDataSkipped(bytes: number, at: number): InEvent;

  /** The plaintext of application data, before its event is logged. */
  protected onApplicationData?(data: Uint8Array): void;

  /**
   * Move one whole record from the input buffer to the record layer (null),
   * or let `openEarly` open it (the event); undefined when no whole record is
   * buffered.
   */
  private takeRecord(): InEvent | null | undefined {
    if (this.layerDead || this.inBuf.length === 0) return undefined;
    if (this.passthrough) {
      this.pending.push({ bytes: this.inBuf, epoch: 'unknown' });
      this.layer.receive(this.inBuf);
      this.inBuf = new Uint8Array(0);
      return null;
    }
    if (this.inBuf.length < 5) return undefined;
    const type = this.inBuf[0] as number;
    const len = ((this.inBuf[3] as number) << 8) | (this.inBuf[4] as number);
    if (type < 20 || type > 23 || len > MAX_CIPHERTEXT_LENGTH) {
      // Not a TLS record the layer would wait for: hand everything over, it will say why.
      this.passthrough = true;
      return this.takeRecord();
    }
    if (this.inBuf.length < 5 + len) return undefined;
    const bytes = this.inBuf.slice(0, 5 + len);
    this.inBuf = this.inBuf.slice(5 + len);
    if (type === ContentType.application_data) {
      const opened = this.openEarly?.(bytes);
      if (opened) return opened;
    }
    this.pending.push({ bytes, epoch: type === ContentType.application_data ? this.readEpoch : 'plaintext' });
    this.layer.receive(bytes);
    return null;
  }

  /** The records behind the item the layer just returned. */
  protected takePending(): InRecord[] {
    const r = this.pending;
    this.pending = [];
    return r;
  }

  protected logged<E extends InEvent>(ev: E): E {
    this.log.push(ev);
    return ev;
  }

  /** An alert from the peer: logged, and remembered (close_notify; the first alert that is not a warning user_canceled). */
  protected alertIn(at: number, level: number, description: number, encrypted: boolean, records: InRecord[]): InEvent {
    const ev = this.logged({ dir: 'in', at, kind: 'alert', level, description: alertName(description), encrypted, records });
    if (description === AlertDescription.close_notify) this.closeNotifyReceived = true;
    else if (description !== AlertDescription.user_canceled || level === 2) this.alertReceived ??= ev.description;
    return ev;
  }

  /** The layer failed (or cannot go on): nothing more can be read, and whatever is buffered stays with this event. */
  protected unreadable(at: number, error: { alert: string; reason: string; message: string }): InEvent {
    this.layerDead = true;
    const records = this.takePending();
    if (this.inBuf.length > 0) records.push({ bytes: this.inBuf, epoch: 'unknown' });
    this.inBuf = new Uint8Array(0);
    return this.logged({
      dir: 'in',
      at,
      kind: 'unreadable',
      error: { alert: error.alert, reason: error.reason, message: error.message },
      records,
    });
  }

  private onItem(item: NonNullable<ReturnType<RecordLayer['next']>>): InEvent {
    const at = this.now();
    switch (item.kind) {
      case 'handshake':
        return this.onHandshake(item.raw, item.encrypted, at);
      case 'alert':
        return this.alertIn(at, item.level, item.description, item.encrypted, this.takePending());
      case 'change_cipher_spec':
        return this.logged({ dir: 'in', at, kind: 'change_cipher_spec', records: this.takePending() });
      case 'application_data':
        this.onApplicationData?.(item.data);
        return this.logged({ dir: 'in', at, kind: 'application_data', length: item.data.length, records: this.takePending() });
      case 'early_data_skipped':
        return this.onEarlyDataSkipped(item.bytes, at);
      case 'error':
        return this.unreadable(at, item.error);
    }
  }
}
