/**
 * Importing a packet capture of TLS 1.3 connections as a tlschart trace:
 *
 *   capture file ─► capture.ts (pcap / pcapng) ─► packets.ts (link, IP, TCP)
 *     ─► tcp.ts (connections, reassembly) ─► tls.ts (records, decryption with
 *     the key log, handshake messages) ─► verify.ts (Finished and
 *     CertificateVerify recomputed) ─► sides.ts + observe.ts (client and
 *     server sides, states of tlschart's charts) ─► one trace
 *
 * Every TLS 1.3 connection of the capture becomes one handshake of the trace
 * (both sides), labelled with its endpoints; a connection that resumed with
 * a ticket issued by an earlier connection of the capture names it
 * (`capture.resumes`). Connections that are not TLS, or not TLS 1.3, are
 * listed as skipped. Nothing secret is written: the key log's secrets are
 * used to decrypt and to recompute Finished values, then dropped; application
 * data is recorded by length, its records as captured (ciphertext).
 */

import { toHex } from '../../crypto/bytes.js';
import { findExtension } from '../../wire/extensions.js';
import type { ClientHello } from '../../wire/types.js';
import {
  type CapturedConnection,
  groupName,
  type HandshakeTrace,
  TRACE_FORMAT,
  TRACE_VERSION,
  type Trace,
  tlschartVersion,
} from '../format.js';
import { type Capture, readCapture } from './capture.js';
import { type KeyLog, parseKeyLog } from './keylog.js';
import { type TcpSegment, tcpSegmentOf } from './packets.js';
import { buildSide } from './sides.js';
import { reassemble } from './tcp.js';
import { looksLikeTls, readTls, type TlsImport } from './tls.js';
import { recomputedGuards } from './verify.js';

export interface ImportOptions {
  /** Names for the trace's metadata (file names as given on the command line). */
  captureName: string;
  keylogName?: string;
}

/** One imported connection, for the command's report. */
export interface ImportedConnection {
  handshake: number;
  label: string;
  capture: CapturedConnection;
  suite: string | null;
  group: string | null;
  resumed: boolean;
  /** Handshake messages decoded, both directions together. */
  messages: number;
  /** Records whose protection did not verify under the logged keys. */
  badRecords: number;
  outcome: { client: string; server: string };
}

export interface ImportReport {
  format: Capture['format'];
  packets: number;
  tcpConnections: number;
  connections: ImportedConnection[];
  /** TCP connections left out, and why. */
  skipped: string[];
  keylog: { secrets: number; clientRandoms: number; problems: string[]; embedded: boolean };
  /** Problems of the capture file itself (a truncated last block, …). */
  problems: string[];
}

export type ImportResult = { ok: true; trace: Trace; report: ImportReport } | { ok: false; error: string; report?: ImportReport };

/** Import a capture (bytes of a pcap or pcapng file) with an optional NSS key log. */
export function importCapture(bytes: Uint8Array, keylogText: string | undefined, options: ImportOptions): ImportResult {
  const read = readCapture(bytes);
  if (!read.ok) return { ok: false, error: read.error };
  const capture = read.capture;
  const keylog: KeyLog = parseKeyLog(`${keylogText ?? ''}\n${capture.embeddedKeylog}`);
  const segments: TcpSegment[] = [];
  for (const p of capture.packets) {
    const s = tcpSegmentOf(p);
    if (s.ok) segments.push(s.segment);
  }
  const tcp = reassemble(segments);
  const report: ImportReport = {
    format: capture.format,
    packets: capture.packets.length,
    tcpConnections: tcp.length,
    connections: [],
    skipped: [],
    keylog: {
      secrets: keylog.secrets,
      clientRandoms: keylog.byClientRandom.size,
      problems: keylog.problems,
      embedded: capture.embeddedKeylog !== '',
    },
    problems: capture.problems,
  };
  const handshakes: HandshakeTrace[] = [];
  const ticketIssuer = new Map<string, number>();
  for (const conn of tcp) {
    const where = `TCP connection ${conn.client} → ${conn.server} (packets ${conn.firstPacket}–${conn.lastPacket})`;
    if (!looksLikeTls(conn)) {
      report.skipped.push(`${where}: does not open with a TLS ClientHello`);
      continue;
    }
    const tls = readTls(conn, keylog);
    if (tls.version === 'tls12-or-older') {
      report.skipped.push(`${where}: ${tls.notes[0] ?? 'not TLS 1.3'}`);
      continue;
    }
    const h = handshakes.length;
    const guards = recomputedGuards(tls.items, tls.suite, tls.secrets);
    const client = buildSide(tls.items, 'client', guards, { endpoint: conn.client, source: 'capture' });
    const server = buildSide(tls.items, 'server', guards, { endpoint: conn.server, source: 'capture' });
    const sh = serverHello(tls);
    const resumed = sh !== undefined && findExtension(sh.extensions, 'pre_shared_key_server') !== undefined;
    const notes = [...tls.notes];
    let resumes: CapturedConnection['resumes'];
    if (resumed && sh) {
      const issuer = resumedTicket(tls, sh.extensions, ticketIssuer);
      if (issuer !== undefined) resumes = { handshake: issuer, label: handshakes[issuer]?.label ?? '' };
      else {
        const unread = handshakes.some((x) => x.capture?.keys === 'none' || x.capture?.keys === 'some');
        notes.push(
          `resumed with a ticket this capture does not show being issued${unread ? ' (earlier connections were not all decrypted)' : ''}`,
        );
      }
    }
    const label = `connection ${h + 1}: ${conn.client} → ${conn.server}${resumes ? `, resumed (ticket from ${resumes.handshake + 1})` : resumed ? ', resumed' : ''}`;
    const captured: CapturedConnection = {
      client: conn.client,
      server: conn.server,
      packets: { first: conn.firstPacket, last: conn.lastPacket },
      clientRandom: tls.clientRandom ?? null,
      keys: tls.keys,
      ...(resumes ? { resumes } : {}),
      notes,
    };
    handshakes.push({ label, sides: [client, server], capture: captured });
    for (const it of tls.items) {
      if (it.from === 'server' && it.decoded?.type === 'new_session_ticket') ticketIssuer.set(toHex(it.decoded.ticket), h);
    }
    const ks = sh ? findExtension(sh.extensions, 'key_share_server') : undefined;
    report.connections.push({
      handshake: h,
      label,
      capture: captured,
      suite: tls.suite?.name ?? null,
      group: ks ? groupName(ks.share.group) : null,
      resumed,
      messages: tls.items.filter((it) => it.kind === 'handshake').length,
      badRecords: tls.items.filter((it) => it.error?.reason === 'BadRecordMac').length,
      outcome: { client: client.outcome.state, server: server.outcome.state },
    });
  }
  if (handshakes.length === 0) {
    return {
      ok: false,
      error: `no TLS 1.3 connection in ${options.captureName} (${capture.packets.length} packets, ${tcp.length} TCP connection(s))`,
      report,
    };
  }
  const first = capture.packets.find((p) => p.time > 0)?.time;
  const trace: Trace = {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    meta: {
      tlschart: tlschartVersion(),
      role: 'pair',
      peer: [...new Set(handshakes.map((h) => h.capture?.server ?? ''))].join(', '),
      time: new Date(first !== undefined ? first * 1000 : 0).toISOString(),
      scenario: `imported from ${options.captureName}`,
      description: `Imported from ${options.captureName}${options.keylogName ? ` with the key log ${options.keylogName}` : ' without a key log'}: ${handshakes.length} TLS 1.3 connection(s), both sides as seen on the wire.`,
      source: 'import',
      capture: { file: options.captureName, format: capture.format, packets: capture.packets.length, keylog: options.keylogName ?? null },
    },
    handshakes,
  };
  return { ok: true, trace, report };
}

function serverHello(tls: TlsImport) {
  for (const it of tls.items) {
    const m = it.decoded;
    if (it.from === 'server' && m?.type === 'server_hello' && !m.isHelloRetryRequest) return m;
  }
  return undefined;
}

/** The handshake that issued the ticket the ServerHello selected (RFC 8446 §4.2.11: selected_identity indexes the last ClientHello's identities). */
function resumedTicket(tls: TlsImport, extensions: Parameters<typeof findExtension>[0], issuers: Map<string, number>): number | undefined {
  const selected = findExtension(extensions, 'pre_shared_key_server')?.selectedIdentity;
  let lastHello: ClientHello | undefined;
  for (const it of tls.items) if (it.from === 'client' && it.decoded?.type === 'client_hello') lastHello = it.decoded;
  const identity =
    selected === undefined || !lastHello
      ? undefined
      : findExtension(lastHello.extensions, 'pre_shared_key_client')?.identities[selected]?.identity;
  return identity === undefined ? undefined : issuers.get(toHex(identity));
}

export { readCapture } from './capture.js';
export { parseKeyLog } from './keylog.js';
