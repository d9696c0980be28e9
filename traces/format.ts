/**
 * The tlschart trace format, version 1: one JSON document per recorded run.
 *
 *   { format: "tlschart-trace", version: 1, meta, handshakes: [ { label, sides: [ { role, config, steps } ] } ] }
 *
 * A trace holds one or more handshakes (a full handshake and its resumption,
 * say), each seen from one side (a real peer on the other end) or from both
 * (an in-memory pair). A step is one thing that crossed the wire — a
 * handshake message, a ChangeCipherSpec, an alert, application data, skipped
 * 0-RTT data — with the records that carried it (raw bytes as hex), the
 * decoded message (bytes as hex), the machine event it caused or came from,
 * the state before and after, and the guards evaluated with their outcome.
 *
 * No secret ever enters a trace: traffic secrets, PSKs and private keys live
 * only in the machine context, which is never copied here; application data is
 * recorded by length (its records only as ciphertext). Keys go to a separate
 * NSS key log when one is asked for (see keylog.ts).
 *
 * traces/trace.schema.json is the JSON Schema of this format; `parseTrace`
 * checks the same structure without a schema library so the CLI can tell a
 * readable trace from an unreadable one.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toHex } from '../crypto/bytes.js';
import { suiteInfo } from '../crypto/suites.js';
import type { ClientConfig, ServerConfig } from '../machines/types.js';
import type { HandshakeMessage } from '../wire/types.js';
import { CipherSuite, NamedGroup, SignatureScheme } from '../wire/types.js';

export const TRACE_FORMAT = 'tlschart-trace';
export const TRACE_VERSION = 1;

/** Each handshake message type as the charts' events spell it (`recv.ClientHello`) and the diagrams title it. */
export const MESSAGE_NAMES: Readonly<Record<string, string>> = {
  client_hello: 'ClientHello',
  server_hello: 'ServerHello',
  encrypted_extensions: 'EncryptedExtensions',
  certificate: 'Certificate',
  certificate_request: 'CertificateRequest',
  certificate_verify: 'CertificateVerify',
  finished: 'Finished',
  new_session_ticket: 'NewSessionTicket',
  key_update: 'KeyUpdate',
  end_of_early_data: 'EndOfEarlyData',
};

export type Role = 'client' | 'server';
export type Direction = 'in' | 'out';
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** One TLS record: outer content type, key epoch, length of the whole record and its bytes. */
export interface RecordInfo {
  contentType: number;
  /** plaintext | early | handshake | application | application+N (inbound epochs are inferred from the state; see recorder.ts). */
  epoch: string;
  /** Bytes on the wire, 5-byte header included. */
  length: number;
  hex: string;
}

export interface GuardOutcome {
  guard: string;
  result: boolean;
}

export interface TransitionTaken {
  source: string;
  targets: string[];
  eventType: string;
  /** Branch index among the transitions declared for `eventType` in `source` (-1 if unknown). */
  index: number;
  guard: string | null;
}

export type StepKind = 'handshake' | 'change_cipher_spec' | 'alert' | 'application_data' | 'early_data_skipped' | 'malformed';

export interface TraceStep {
  /** Order of the step within its handshake (shared by both sides of a pair, so they interleave). */
  seq: number;
  direction: Direction;
  kind: StepKind;
  records: RecordInfo[];
  /** handshake: the message; `hex` is authoritative, `fields` is its decoding (bytes as hex) for people. */
  message?: { type: string; encrypted: boolean; hex: string; fields: JsonValue };
  alert?: { level: number; description: string };
  applicationData?: { length: number };
  earlyDataSkipped?: { bytes: number };
  /** malformed: what the decoder or record layer said. */
  error?: { alert: string; reason: string; message: string };
  /** The machine event this step caused (in) or was sent while handling (out); null if none. */
  event: { id: number; type: string } | null;
  stateBefore: string;
  stateAfter: string;
  /** Guards evaluated while the machine handled `event` (inbound steps, and the first outbound step of a local event). */
  guards: GuardOutcome[];
  transitions: TransitionTaken[];
}

/** What a side was configured with, without secrets (no keys, no PSKs; certificates by subject only). */
export interface ConfigSummary {
  [k: string]: JsonValue;
}

export interface SideTrace {
  role: Role;
  config: ConfigSummary;
  /** For deterministic runs: the seed and start time of the seeded environment. */
  environment?: { seed: string; startMs: number };
  /** How the side ended: its final state and, if it failed, the alert and reason. */
  outcome: { state: string; alert?: string; reason?: string; remote?: boolean };
  steps: TraceStep[];
}

export interface HandshakeTrace {
  label: string;
  sides: SideTrace[];
  /** For a handshake imported from a packet capture: which connection it was (see `tlschart trace import`). */
  capture?: CapturedConnection;
}

/**
 * Where an imported handshake came from. In an imported trace both sides are
 * third-party peers seen on the wire: their steps carry what was captured
 * (decrypted with the key log), the states of tlschart's chart walked along
 * what each peer was seen to do, only the guard outcomes the importer could
 * recompute (Finished, CertificateVerify), and no transitions.
 */
export interface CapturedConnection {
  /** host:port of the client and of the server. */
  client: string;
  server: string;
  /** Numbers (as Wireshark counts them) of the connection's first and last packet. */
  packets: { first: number; last: number };
  /** ClientHello.random, the key the key log is indexed by (public); null without a ClientHello. */
  clientRandom: string | null;
  /** Whether the key log had what the connection needed: all, some (part of it stayed encrypted), none, not-needed. */
  keys: 'all' | 'some' | 'none' | 'not-needed';
  /** The earlier handshake in this trace whose NewSessionTicket this connection resumed with. */
  resumes?: { handshake: number; label: string };
  /** What could not be imported, and why, in sentences. */
  notes: string[];
}

export interface TraceMeta {
  /** tlschart version (package.json) that recorded the trace. */
  tlschart: string;
  /** The role of the recording side, or "pair" when both sides were recorded. */
  role: Role | 'pair';
  /** Who the peer was: host:port, "in-memory", a program name. */
  peer: string;
  /** ISO 8601 time the recording started (the environment's clock). */
  time: string;
  scenario?: string;
  description?: string;
  /** How the trace was made: absent for tlschart's own recordings, "import" for `tlschart trace import`. */
  source?: 'import';
  /** For an imported trace: the capture and key log it was made from. */
  capture?: { file: string; format: 'pcap' | 'pcapng'; packets: number; keylog: string | null };
}

export interface Trace {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  meta: TraceMeta;
  handshakes: HandshakeTrace[];
}

// ------------------------------------------------------------------ names

const invert = (o: Record<string, number>): Map<number, string> => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const SUITES = invert(CipherSuite);
const GROUPS = invert(NamedGroup);
const SCHEMES = invert(SignatureScheme);
const CONTENT_TYPES = new Map<number, string>([
  [20, 'change_cipher_spec'],
  [21, 'alert'],
  [22, 'handshake'],
  [23, 'application_data'],
]);

export const suiteName = (c: number): string => SUITES.get(c) ?? `0x${c.toString(16).padStart(4, '0')}`;
export const groupName = (g: number): string => GROUPS.get(g) ?? `0x${g.toString(16).padStart(4, '0')}`;
export const schemeName = (s: number): string => SCHEMES.get(s) ?? `0x${s.toString(16).padStart(4, '0')}`;
export const contentTypeName = (t: number): string => CONTENT_TYPES.get(t) ?? `unknown(${t})`;

/** The tlschart version, from package.json. */
export function tlschartVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  // dist/traces/format.js sits one level deeper than traces/format.ts.
  for (const candidate of [url, new URL('../../package.json', import.meta.url)]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tlschart' && typeof pkg.version === 'string') return pkg.version;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return 'unknown';
}

// ------------------------------------------------------------------ message fields

/** A decoded value as JSON: bytes as hex, `raw` dropped (the step keeps the message hex). */
export function toJsonValue(v: unknown): JsonValue {
  if (v instanceof Uint8Array) return toHex(v);
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'raw' || x === undefined || typeof x === 'function') continue;
      out[k] = toJsonValue(x);
    }
    return out;
  }
  return String(v);
}

/** The fields of a decoded handshake message, for people: bytes as hex, with names for suites, groups and schemes. */
export function messageFields(msg: HandshakeMessage): JsonValue {
  const fields = toJsonValue(msg) as { [k: string]: JsonValue };
  if (msg.type === 'client_hello') fields.cipherSuiteNames = msg.cipherSuites.map(suiteName);
  if (msg.type === 'server_hello') fields.cipherSuiteName = suiteName(msg.cipherSuite);
  if (msg.type === 'certificate_verify') fields.algorithmName = schemeName(msg.algorithm);
  return fields;
}

// ------------------------------------------------------------------ configuration summaries

/** Client configuration without secrets: no session PSK, no client key; whether they exist is said. */
export function clientConfigSummary(c: ClientConfig): ConfigSummary {
  return {
    serverName: c.serverName ?? null,
    alpnProtocols: [...c.alpnProtocols],
    groups: c.groups.map(groupName),
    keyShareGroups: c.keyShareGroups.map(groupName),
    cipherSuites: c.cipherSuites.map(suiteName),
    signatureSchemes: c.signatureSchemes.map(schemeName),
    compatibilityMode: c.compatibilityMode,
    clientCertificate: c.clientCertificate !== undefined,
    offersSession: c.session !== undefined,
    sessionSuite: c.session ? (suiteInfo(c.session.suite)?.name ?? suiteName(c.session.suite)) : null,
  };
}

/** Server configuration without secrets: certificates by count and key kind, never their keys. */
export function serverConfigSummary(c: ServerConfig): ConfigSummary {
  return {
    certificates: c.certificates.map((x) => ({ chainLength: x.chain.length, keyKind: x.key.kind })),
    groups: c.groups.map(groupName),
    cipherSuites: c.cipherSuites.map(suiteName),
    alpnProtocols: [...c.alpnProtocols],
    ticketsPerHandshake: c.ticketsPerHandshake,
    ticketLifetimeS: c.ticketLifetimeS,
    requestClientCertificate: c.requestClientCertificate,
    requireClientCertificate: c.requireClientCertificate,
    forceHelloRetry: c.forceHelloRetry,
    maxEarlyDataSkip: c.maxEarlyDataSkip,
  };
}

// ------------------------------------------------------------------ reading and writing

/** Stable text of a trace: two-space JSON with a final newline (golden files compare as text). */
export function serializeTrace(trace: Trace): string {
  return `${JSON.stringify(trace, null, 2)}\n`;
}

/** Write a trace to a file (the directory is created). Used by the CLI, the Node API and the property suites for counterexamples. */
export async function saveTrace(path: string, trace: Trace): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, serializeTrace(trace));
}

export type ParseResult = { ok: true; trace: Trace } | { ok: false; error: string };

/** Read a trace file; an unreadable or malformed file is a result, not an exception. */
export function loadTrace(path: string): ParseResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, error: `cannot read ${path}: ${(e as Error).message}` };
  }
  return parseTrace(text);
}

/**
 * Parse and check the structure of a trace (the same rules as trace.schema.json).
 * JSON Lines — one trace per line, as `tlschart serve --trace` streams them —
 * read as one trace holding every line's handshakes, in order.
 */
export function parseTrace(text: string): ParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 1 && lines[0]?.trimStart().startsWith('{')) return parseTraceLines(lines);
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const problem = traceProblem(doc);
  return problem === undefined ? { ok: true, trace: doc as Trace } : { ok: false, error: problem };
}

function parseTraceLines(lines: string[]): ParseResult {
  const traces: Trace[] = [];
  for (const [i, line] of lines.entries()) {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      return { ok: false, error: `line ${i + 1}: not JSON: ${(e as Error).message}` };
    }
    const problem = traceProblem(doc);
    if (problem !== undefined) return { ok: false, error: `line ${i + 1}: ${problem}` };
    traces.push(doc as Trace);
  }
  const first = traces[0] as Trace;
  const roles = new Set(traces.map((t) => t.meta.role));
  return {
    ok: true,
    trace: {
      ...first,
      meta: { ...first.meta, role: roles.size === 1 ? first.meta.role : 'pair' },
      handshakes: traces.flatMap((t) => t.handshakes),
    },
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isHex = (v: unknown): boolean => typeof v === 'string' && /^([0-9a-f]{2})*$/.test(v);
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

function stepProblem(s: unknown, where: string): string | undefined {
  if (!isObj(s)) return `${where}: not an object`;
  if (!isInt(s.seq)) return `${where}.seq: not a non-negative integer`;
  if (s.direction !== 'in' && s.direction !== 'out') return `${where}.direction: must be "in" or "out"`;
  const kinds: StepKind[] = ['handshake', 'change_cipher_spec', 'alert', 'application_data', 'early_data_skipped', 'malformed'];
  if (!kinds.includes(s.kind as StepKind)) return `${where}.kind: unknown kind ${JSON.stringify(s.kind)}`;
  if (!Array.isArray(s.records)) return `${where}.records: not an array`;
  for (const [i, r] of s.records.entries()) {
    if (!isObj(r) || !isInt(r.contentType) || !isStr(r.epoch) || !isInt(r.length) || !isHex(r.hex)) {
      return `${where}.records[${i}]: needs contentType, epoch, length and hex`;
    }
  }
  if (s.kind === 'handshake') {
    const m = s.message;
    if (!isObj(m) || !isStr(m.type) || typeof m.encrypted !== 'boolean' || !isHex(m.hex) || (m.hex as string).length < 8) {
      return `${where}.message: needs type, encrypted and hex (at least the 4-byte header)`;
    }
  }
  if (s.kind === 'alert' && (!isObj(s.alert) || !isInt(s.alert.level) || !isStr(s.alert.description))) {
    return `${where}.alert: needs level and description`;
  }
  const ev = s.event;
  if (ev !== null && (!isObj(ev) || !isInt(ev.id) || !isStr(ev.type))) return `${where}.event: needs id and type, or null`;
  if (!isStr(s.stateBefore) || !isStr(s.stateAfter)) return `${where}: needs stateBefore and stateAfter`;
  if (!Array.isArray(s.guards) || !s.guards.every((g) => isObj(g) && isStr(g.guard) && typeof g.result === 'boolean')) {
    return `${where}.guards: needs [{guard, result}]`;
  }
  if (!Array.isArray(s.transitions)) return `${where}.transitions: not an array`;
  return undefined;
}

function traceProblem(doc: unknown): string | undefined {
  if (!isObj(doc)) return 'the document is not a JSON object';
  if (doc.format !== TRACE_FORMAT) return `format is not "${TRACE_FORMAT}"`;
  if (doc.version !== TRACE_VERSION)
    return `unsupported version ${JSON.stringify(doc.version)} (this tlschart reads version ${TRACE_VERSION})`;
  const meta = doc.meta;
  if (!isObj(meta) || !isStr(meta.tlschart) || !isStr(meta.peer) || !isStr(meta.time)) return 'meta needs tlschart, role, peer and time';
  if (!['client', 'server', 'pair'].includes(meta.role as string)) return 'meta.role must be client, server or pair';
  if (meta.source !== undefined && meta.source !== 'import') return 'meta.source must be "import" when present';
  if (!Array.isArray(doc.handshakes) || doc.handshakes.length === 0) return 'handshakes: needs at least one handshake';
  for (const [h, hs] of doc.handshakes.entries()) {
    if (!isObj(hs) || !isStr(hs.label) || !Array.isArray(hs.sides) || hs.sides.length === 0) {
      return `handshakes[${h}]: needs label and at least one side`;
    }
    const cap = hs.capture;
    if (
      cap !== undefined &&
      (!isObj(cap) ||
        !isStr(cap.client) ||
        !isStr(cap.server) ||
        !['all', 'some', 'none', 'not-needed'].includes(cap.keys as string) ||
        !Array.isArray(cap.notes))
    ) {
      return `handshakes[${h}].capture: needs client, server, keys (all, some, none, not-needed) and notes`;
    }
    for (const [i, side] of hs.sides.entries()) {
      const where = `handshakes[${h}].sides[${i}]`;
      if (!isObj(side) || (side.role !== 'client' && side.role !== 'server')) return `${where}.role: must be client or server`;
      if (!isObj(side.config)) return `${where}.config: not an object`;
      if (!isObj(side.outcome) || !isStr(side.outcome.state)) return `${where}.outcome: needs state`;
      if (!Array.isArray(side.steps)) return `${where}.steps: not an array`;
      for (const [j, s] of side.steps.entries()) {
        const p = stepProblem(s, `${where}.steps[${j}]`);
        if (p) return p;
      }
    }
  }
  return undefined;
}
