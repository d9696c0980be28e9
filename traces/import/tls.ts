/**
 * One TCP connection as TLS 1.3: both directions cut into records (RFC 8446
 * §5.1), the protected ones opened with traffic keys derived from the key
 * log's secrets (§7.3, record/ and crypto/keyschedule.ts), the handshake
 * messages put back together across records and decoded (wire/).
 *
 * Records of both directions are taken in the order the capture saw them
 * complete, because what one side sent decides how to read the other: the
 * ClientHello's random finds the secrets, the ServerHello names the suite
 * and starts the handshake epoch, each Finished starts an application epoch
 * in its direction (§7.2), each KeyUpdate the next one (§4.6.3).
 *
 * What cannot be read is said, never guessed: a record that does not
 * authenticate under the keys of its epoch (nor under the next epoch's, in
 * case a key change was missed) is a `malformed` item with bad_record_mac;
 * a direction whose secrets are not in the key log stops being read at its
 * first protected record, and the records left are counted.
 */

import { toHex } from '../../crypto/bytes.js';
import { nextApplicationTrafficSecret, trafficKeys } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { MAX_CIPHERTEXT_LENGTH } from '../../record/framing.js';
import { RecordDeprotector } from '../../record/protection.js';
import { decodeAlert } from '../../wire/alert.js';
import { alertName } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, readHandshakeHeader } from '../../wire/handshake.js';
import { type HandshakeMessage, TLS13 } from '../../wire/types.js';
import { messageFields, type RecordInfo, type Role, type StepKind, suiteName } from '../format.js';
import type { ConnectionSecrets, KeyLog, Tls13Label } from './keylog.js';
import { availableAt, startsWithClientHello, type TcpConnection, type TcpStream } from './tcp.js';

/** One thing that crossed the wire, decoded as far as the keys allow. */
export interface WireItem {
  from: Role;
  kind: StepKind;
  /** The records that completed with this item (a record goes to the first item it completes). */
  records: RecordInfo[];
  message?: { type: string; encrypted: boolean; hex: string; fields: ReturnType<typeof messageFields> | null };
  decoded?: HandshakeMessage;
  alert?: { level: number; description: string };
  applicationData?: { length: number };
  earlyDataSkipped?: { bytes: number };
  error?: { alert: string; reason: string; message: string };
  /** Application data under the client's early traffic keys (0-RTT). */
  early?: boolean;
}

export interface TlsImport {
  items: WireItem[];
  /** ClientHello.random, hex (public). */
  clientRandom: string | undefined;
  suite: SuiteInfo | undefined;
  /** 'tls13' once a ServerHello selected TLS 1.3. */
  version: 'tls13' | 'tls12-or-older' | 'no-server-hello';
  /** Whether the key log had every secret the connection needed. */
  keys: 'all' | 'some' | 'none' | 'not-needed';
  /** The secrets found for this connection (for Finished recomputation; never written to a trace). */
  secrets: ConnectionSecrets;
  /** Sentences for people: what could not be read and why. */
  notes: string[];
  undecrypted: { records: number; bytes: number };
}

interface WireRecord {
  from: Role;
  contentType: number;
  header: Uint8Array;
  fragment: Uint8Array;
  bytes: Uint8Array;
  /** Packet at which the whole record had arrived. */
  packet: number;
  /** Position in its own stream, to keep each direction in order. */
  index: number;
}

interface Direction {
  role: Role;
  epoch: string;
  secret: Uint8Array | undefined;
  deprotector: RecordDeprotector | undefined;
  /** The label of the secret this epoch needs, when the key log lacks it. */
  missing: Tls13Label | undefined;
  early: RecordDeprotector | undefined;
  buffer: Uint8Array;
  bufferEncrypted: boolean;
  pending: RecordInfo[];
  stopped: string | undefined;
  updates: number;
  /** Protected records seen before the ServerHello told how to read them. */
  held: WireRecord[];
}

const SECRET_LABEL = {
  client: { handshake: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', application: 'CLIENT_TRAFFIC_SECRET_0' },
  server: { handshake: 'SERVER_HANDSHAKE_TRAFFIC_SECRET', application: 'SERVER_TRAFFIC_SECRET_0' },
} as const;

/** Whether a connection carries TLS at all (its client opens with a ClientHello record). */
export const looksLikeTls = (c: TcpConnection): boolean => startsWithClientHello(c.toServer.data);

/** Read a TCP connection as TLS 1.3 with the secrets of `keylog`. */
export function readTls(conn: TcpConnection, keylog: KeyLog | undefined): TlsImport {
  const out: TlsImport = {
    items: [],
    clientRandom: undefined,
    suite: undefined,
    version: 'no-server-hello',
    keys: 'not-needed',
    secrets: {},
    notes: [],
    undecrypted: { records: 0, bytes: 0 },
  };
  const dirs: Record<Role, Direction> = { client: direction('client'), server: direction('server') };
  const records = [...splitRecords(conn.toServer, 'client', out.notes), ...splitRecords(conn.toClient, 'server', out.notes)];
  records.sort((a, b) => a.packet - b.packet || (a.from === b.from ? a.index - b.index : a.from === 'client' ? -1 : 1));
  let protectedSeen = 0;
  let protectedOpened = 0;
  let earlyAccepted = false;

  const emit = (item: WireItem) => out.items.push(item);
  const noSecrets = () => Object.keys(out.secrets).length === 0;
  const secret = (label: Tls13Label): Uint8Array | undefined => out.secrets[label];

  const setEpoch = (d: Direction, epoch: string, s: Uint8Array | undefined, label: Tls13Label | undefined) => {
    d.epoch = epoch;
    d.secret = s;
    d.missing = s === undefined ? label : undefined;
    d.deprotector =
      s !== undefined && out.suite ? new RecordDeprotector(out.suite, trafficKeys(out.suite, s, nobleProvider), nobleProvider) : undefined;
  };

  const onMessage = (d: Direction, msg: HandshakeMessage) => {
    if (msg.type === 'client_hello' && d.role === 'client' && out.clientRandom === undefined) {
      out.clientRandom = toHex(msg.random);
      out.secrets = keylog?.byClientRandom.get(out.clientRandom) ?? {};
    }
    if (msg.type === 'server_hello' && d.role === 'server' && !msg.isHelloRetryRequest && out.version === 'no-server-hello') {
      const sv = findExtension(msg.extensions, 'supported_versions_server');
      if (sv?.version !== TLS13) {
        out.version = 'tls12-or-older';
        stopBoth(
          `the ServerHello selects ${sv ? `version 0x${sv.version.toString(16)}` : 'TLS 1.2 or older (no supported_versions)'}; tlschart reads TLS 1.3 only`,
        );
        return;
      }
      out.version = 'tls13';
      out.suite = suiteInfo(msg.cipherSuite);
      if (!out.suite) {
        stopBoth(`cipher suite ${suiteName(msg.cipherSuite)} is not one tlschart can decrypt`);
        return;
      }
      setEpoch(dirs.server, 'handshake', secret('SERVER_HANDSHAKE_TRAFFIC_SECRET'), 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
      setEpoch(dirs.client, 'handshake', secret('CLIENT_HANDSHAKE_TRAFFIC_SECRET'), 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      const early = secret('CLIENT_EARLY_TRAFFIC_SECRET');
      if (early) dirs.client.early = new RecordDeprotector(out.suite, trafficKeys(out.suite, early, nobleProvider), nobleProvider);
      const held = dirs.client.held.splice(0);
      for (const r of held) onRecord(r);
    }
    if (msg.type === 'encrypted_extensions' && findExtension(msg.extensions, 'early_data')) earlyAccepted = true;
    if (msg.type === 'finished' && (d.epoch === 'handshake' || d.epoch === 'early')) {
      setEpoch(d, 'application', secret(SECRET_LABEL[d.role].application), SECRET_LABEL[d.role].application);
    }
    if (msg.type === 'end_of_early_data' && d.role === 'client') d.early = undefined;
    if (msg.type === 'key_update' && d.epoch.startsWith('application') && out.suite) {
      d.updates++;
      const next = d.secret ? nextApplicationTrafficSecret(out.suite, d.secret, nobleProvider) : undefined;
      setEpoch(d, `application+${d.updates}`, next, d.missing);
    }
  };

  const stopBoth = (why: string) => {
    for (const d of Object.values(dirs)) d.stopped ??= why;
    out.notes.push(why);
  };

  /** Complete handshake messages from the direction's buffer. */
  const drain = (d: Direction) => {
    for (;;) {
      const h = readHandshakeHeader(d.buffer);
      if (!h || d.buffer.length < 4 + h.length) return;
      const raw = d.buffer.slice(0, 4 + h.length);
      d.buffer = d.buffer.slice(4 + h.length);
      const records = d.pending.splice(0);
      const decoded = decodeHandshake(raw, out.suite ? { hashLen: out.suite.hashLen } : {});
      if (!decoded.ok) {
        emit({
          from: d.role,
          kind: 'malformed',
          records,
          error: { alert: decoded.error.alert, reason: 'DecodeError', message: `${decoded.error.field}: ${decoded.error.message}` },
        });
        continue;
      }
      const msg = decoded.value;
      emit({
        from: d.role,
        kind: 'handshake',
        records,
        message: { type: msg.type, encrypted: d.bufferEncrypted, hex: toHex(raw), fields: messageFields(msg) },
        decoded: msg,
      });
      onMessage(d, msg);
      if (d.stopped) return;
    }
  };

  const onInner = (d: Direction, info: RecordInfo, contentType: number, content: Uint8Array, early: boolean) => {
    switch (contentType) {
      case 22:
        d.buffer = concatBytes(d.buffer, content);
        d.bufferEncrypted = true;
        d.pending.push(info);
        drain(d);
        return;
      case 21:
        emit(alertItem(d.role, [info], content));
        return;
      case 23:
        emit({
          from: d.role,
          kind: 'application_data',
          records: [info],
          applicationData: { length: content.length },
          ...(early ? { early: true } : {}),
        });
        return;
      default:
        emit(
          malformed(
            d.role,
            [info],
            'unexpected_message',
            'UnexpectedInnerType',
            `a protected record of inner content type ${contentType} (RFC 8446 §5.2)`,
          ),
        );
    }
  };

  const onRecord = (r: WireRecord): void => {
    const d = dirs[r.from];
    if (d.stopped) {
      out.undecrypted.records++;
      out.undecrypted.bytes += r.bytes.length;
      return;
    }
    const info = (epoch: string): RecordInfo => ({ contentType: r.contentType, epoch, length: r.bytes.length, hex: toHex(r.bytes) });
    if (r.contentType === 20) {
      const ok = r.fragment.length === 1 && r.fragment[0] === 1;
      emit(
        ok
          ? { from: r.from, kind: 'change_cipher_spec', records: [info('plaintext')] }
          : malformed(
              r.from,
              [info('plaintext')],
              'unexpected_message',
              'BadChangeCipherSpec',
              'a change_cipher_spec record whose body is not the single byte 1 (RFC 8446 §5)',
            ),
      );
      return;
    }
    if (r.contentType === 21) {
      emit(alertItem(r.from, [info('plaintext')], r.fragment));
      return;
    }
    if (r.contentType === 22) {
      d.buffer = concatBytes(d.buffer, r.fragment);
      d.bufferEncrypted = false;
      d.pending.push(info('plaintext'));
      drain(d);
      return;
    }
    // application_data: a protected record (§5.2).
    if (out.version === 'no-server-hello' && r.from === 'client') {
      d.held.push(r); // 0-RTT before the ServerHello names the suite
      return;
    }
    protectedSeen++;
    if (!d.deprotector && !d.early) {
      d.stopped = d.missing
        ? `no ${d.missing} in the key log for client random ${short(out.clientRandom)}: the ${d.role}'s protected records from here on were not decrypted`
        : `the ${d.role} sent a protected record before keys were agreed`;
      if (!noSecrets()) out.notes.push(d.stopped);
      onRecord(r);
      return;
    }
    const opened = open(d, r);
    if (opened.ok) {
      protectedOpened++;
      onInner(d, info(opened.epoch), opened.contentType, opened.content, opened.epoch === 'early');
      return;
    }
    emit(
      malformed(
        r.from,
        [info(d.epoch)],
        'bad_record_mac',
        'BadRecordMac',
        `the captured record does not authenticate under the ${d.role}'s ${d.epoch} traffic keys from the key log; §5.2 calls for bad_record_mac`,
      ),
    );
  };

  /** Open under the epoch's keys, else the next epoch's (a key change not seen), else 0-RTT keys. */
  const open = (d: Direction, r: WireRecord): { ok: true; epoch: string; contentType: number; content: Uint8Array } | { ok: false } => {
    if (d.deprotector) {
      const u = d.deprotector.unprotect(r.header, r.fragment);
      if (u.ok) return { ok: true, epoch: d.epoch, contentType: u.contentType, content: u.content };
    }
    if (d.role === 'client' && d.early && d.epoch === 'handshake') {
      const u = d.early.unprotect(r.header, r.fragment);
      if (u.ok) return { ok: true, epoch: 'early', contentType: u.contentType, content: u.content };
    }
    const suite = out.suite;
    if (suite && d.epoch === 'handshake') {
      const s = secret(SECRET_LABEL[d.role].application);
      const next = s ? new RecordDeprotector(suite, trafficKeys(suite, s, nobleProvider), nobleProvider) : undefined;
      const u = next?.unprotect(r.header, r.fragment);
      if (u?.ok) {
        out.notes.push(`the ${d.role} switched to application keys without a Finished the importer could read`);
        setEpoch(d, 'application', s, SECRET_LABEL[d.role].application);
        d.deprotector = next;
        return { ok: true, epoch: d.epoch, contentType: u.contentType, content: u.content };
      }
    }
    // Keep the sequence numbers in step with the peer, which (as captured) read this record.
    if (d.deprotector && suite && d.secret) {
      d.deprotector = new RecordDeprotector(suite, trafficKeys(suite, d.secret, nobleProvider), nobleProvider, {
        initialSequence: d.deprotector.sequence + 1n,
      });
    }
    return { ok: false };
  };

  for (const r of records) onRecord(r);
  for (const d of Object.values(dirs)) {
    if (d.held.length > 0) {
      // No ServerHello ever came: nothing tells how to read them.
      out.notes.push(`${d.held.length} protected record(s) from the ${d.role} came before any ServerHello and were not decrypted`);
      for (const r of d.held.splice(0)) {
        out.undecrypted.records++;
        out.undecrypted.bytes += r.bytes.length;
      }
    }
    if (d.buffer.length > 0 && !d.stopped)
      out.notes.push(`the ${d.role}'s stream ends inside a handshake message (${d.buffer.length} bytes)`);
  }
  // 0-RTT data the server did not accept was skipped by it (RFC 8446 §4.2.10), not read.
  if (!earlyAccepted) {
    for (const it of out.items) {
      if (it.early) {
        it.kind = 'early_data_skipped';
        it.earlyDataSkipped = { bytes: it.records.reduce((n, x) => n + x.length, 0) };
        delete it.applicationData;
      }
    }
  }
  if (out.undecrypted.records > 0) {
    const what = `${out.undecrypted.records} protected record(s), ${out.undecrypted.bytes} bytes, were not decrypted`;
    out.notes.push(
      noSecrets() && out.clientRandom !== undefined
        ? `the key log has no secrets for client random ${short(out.clientRandom)}: only the plaintext part was imported (hellos, ChangeCipherSpec, plaintext alerts); ${what}`
        : what,
    );
  }
  out.keys =
    protectedSeen === 0 && out.undecrypted.records === 0
      ? 'not-needed'
      : protectedOpened === 0 && out.undecrypted.records > 0
        ? 'none'
        : out.undecrypted.records > 0
          ? 'some'
          : 'all';
  return out;
}

function direction(role: Role): Direction {
  return {
    role,
    epoch: 'plaintext',
    secret: undefined,
    deprotector: undefined,
    missing: undefined,
    early: undefined,
    buffer: new Uint8Array(0),
    bufferEncrypted: false,
    pending: [],
    stopped: undefined,
    updates: 0,
    held: [],
  };
}

/** Cut a stream into records (§5.1); stops at bytes that are not a record header. */
function splitRecords(s: TcpStream, from: Role, notes: string[]): WireRecord[] {
  const out: WireRecord[] = [];
  const b = s.data;
  let at = 0;
  while (at + 5 <= b.length) {
    const type = b[at] as number;
    const len = ((b[at + 3] as number) << 8) | (b[at + 4] as number);
    if (type < 20 || type > 23 || b[at + 1] !== 3 || len > MAX_CIPHERTEXT_LENGTH) {
      notes.push(`the ${from}'s stream has bytes that are not a TLS record at offset ${at}; the rest of it is not read`);
      return out;
    }
    if (at + 5 + len > b.length) break;
    const bytes = b.subarray(at, at + 5 + len);
    out.push({
      from,
      contentType: type,
      header: bytes.subarray(0, 5),
      fragment: bytes.subarray(5),
      bytes,
      packet: availableAt(s, at + 5 + len),
      index: out.length,
    });
    at += 5 + len;
  }
  if (at < b.length) notes.push(`the ${from}'s stream ends inside a record (${b.length - at} bytes)`);
  if (s.gap) notes.push(`the capture misses the ${from}'s bytes ${s.gap.at}–${s.gap.resumesAt - 1}: what follows was not read`);
  if (s.conflicts > 0)
    notes.push(`${s.conflicts} retransmitted segment(s) from the ${from} differ from the bytes first captured; the first were kept`);
  return out;
}

function alertItem(from: Role, records: RecordInfo[], body: Uint8Array): WireItem {
  const a = decodeAlert(body);
  if (!a.ok) return malformed(from, records, a.error.alert, 'DecodeError', `alert: ${a.error.message}`);
  return { from, kind: 'alert', records, alert: { level: a.value.level, description: alertName(a.value.description) } };
}

function malformed(from: Role, records: RecordInfo[], alert: string, reason: string, message: string): WireItem {
  return { from, kind: 'malformed', records, error: { alert, reason, message } };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const short = (hex: string | undefined) => (hex === undefined ? '(none)' : `${hex.slice(0, 16)}…`);
