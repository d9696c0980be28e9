/**
 * What the two audit trace builders share: `probe/trace.ts` (a probe
 * client's connection, seen from the audited server) and `client/trace.ts`
 * (a connection of the probing server, seen from the audited client) both
 * turn a wire log (`probe/endpoint.ts`) into a trace in the project format
 * (`traces/format.ts`) whose states are inferred from the wire.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../crypto/bytes.js';
import {
  messageFields,
  type RecordInfo,
  type Role,
  type SideTrace,
  serializeTrace,
  TRACE_FORMAT,
  TRACE_VERSION,
  type Trace,
  type TraceStep,
  tlschartVersion,
} from '../traces/format.js';
import { checkSide } from '../traces/monitor.js';
import { decodeHandshake } from '../wire/handshake.js';
import { type HandshakeMessage, HandshakeType } from '../wire/types.js';
import type { Divergence } from './findings.js';
import type { InRecord } from './probe/endpoint.js';
import type { ConnectionRecord } from './server/context.js';

/** Split concatenated records (as written) into RecordInfo entries; bytes after the last whole header are `unknown`. */
export function splitRecords(bytes: Uint8Array, epoch: string): RecordInfo[] {
  const out: RecordInfo[] = [];
  let o = 0;
  while (o + 5 <= bytes.length) {
    const len = ((bytes[o + 3] as number) << 8) | (bytes[o + 4] as number);
    const end = Math.min(bytes.length, o + 5 + len);
    const rec = bytes.subarray(o, end);
    out.push({ contentType: bytes[o] as number, epoch: bytes[o] === 23 ? epoch : 'plaintext', length: rec.length, hex: toHex(rec) });
    o = end;
  }
  if (o < bytes.length)
    out.push({ contentType: bytes[o] as number, epoch: 'unknown', length: bytes.length - o, hex: toHex(bytes.subarray(o)) });
  return out;
}

/** The records behind a received item, split one by one. */
export const inRecords = (records: readonly InRecord[]): RecordInfo[] => records.flatMap((r) => splitRecords(r.bytes, r.epoch));

export function decoded(raw: Uint8Array): HandshakeMessage | undefined {
  const d = decodeHandshake(raw);
  return d.ok ? d.value : undefined;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(HandshakeType).map(([name, code]) => [code, name]));

/** The name a handshake message's header gives; undefined for a type tlschart does not know. */
export const handshakeTypeName = (raw: Uint8Array): string | undefined => TYPE_NAMES.get(raw[0] ?? -1);

/** A message for a trace step; one that does not decode keeps the name its header gives. */
export function messageOf(raw: Uint8Array, encrypted: boolean, msg?: HandshakeMessage): NonNullable<TraceStep['message']> {
  const m = msg ?? decoded(raw);
  return {
    type: m?.type ?? handshakeTypeName(raw) ?? `unknown(${raw[0] ?? -1})`,
    encrypted,
    hex: toHex(raw),
    fields: m ? messageFields(m) : null,
  };
}

/** Whether an alert ends the connection: anything but close_notify and a warning user_canceled (RFC 8446 §6). */
export function isFatalAlert(description: string, level: number): boolean {
  return description !== 'close_notify' && !(description === 'user_canceled' && level !== 2);
}

/** Whether a trace step is an alert that ends the connection. */
export const isFatalStep = (step: TraceStep): boolean =>
  step.kind === 'alert' && isFatalAlert(step.alert?.description ?? '', step.alert?.level ?? 0);

/** A step before its kind and contents: no state, no guard, no transition, no event yet. */
export const blankStep = (seq: number, direction: 'in' | 'out') => ({
  seq,
  direction,
  stateBefore: '',
  stateAfter: '',
  guards: [] as TraceStep['guards'],
  transitions: [] as TraceStep['transitions'],
  event: null,
});

/**
 * Of several readings of the same wire (where a fatal alert is put), the one
 * under which the trace agrees with the chart longest; the first of them on a
 * tie. The readings are made one at a time, as they are compared.
 */
export function mostAgreeing(readings: Iterable<SideTrace>): SideTrace {
  let best: { side: SideTrace; score: number } | undefined;
  for (const side of readings) {
    const c = checkSide(side);
    const score = c.conforms ? Infinity : c.violation.step;
    if (best === undefined || score > best.score) best = { side, score };
  }
  if (best === undefined) throw new RangeError('mostAgreeing needs at least one reading');
  return best.side;
}

export interface AuditedTraceMeta {
  /** The audited peer. */
  target: string;
  /** The connection. */
  label: string;
  /** The check it belongs to. */
  scenario: string;
  description: string;
  startedAt: number;
}

/** The trace of one audited connection: one handshake, the audited peer's side only. */
export function auditedTrace(role: Role, meta: AuditedTraceMeta, side: SideTrace): Trace {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    meta: {
      tlschart: tlschartVersion(),
      role,
      peer: `${meta.target} (audited by tlschart; its states are inferred from what it sent)`,
      time: new Date(meta.startedAt).toISOString(),
      scenario: meta.scenario,
      description: meta.description,
    },
    handshakes: [{ label: meta.label, sides: [side] }],
  };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48);

/** Write the trace of connection `n` of `scenario` to `outDir/traces/<scenario>/<nnn>-<label>.json`; the path relative to `outDir`. */
export async function writeConnectionTrace(outDir: string, scenario: string, n: number, label: string, trace: Trace): Promise<string> {
  const rel = join('traces', scenario, `${String(n).padStart(3, '0')}-${slug(label)}.json`);
  await mkdir(join(outDir, 'traces', scenario), { recursive: true });
  await writeFile(join(outDir, rel), serializeTrace(trace));
  return rel;
}

/**
 * A connection as the report records it: its trace file (`rel`), the chart
 * states its audited side went through, and where it first left the chart.
 */
export function connectionRecord(trace: Trace, rel: string, label: string): ConnectionRecord {
  const side = trace.handshakes[0]?.sides[0];
  const path: string[] = [];
  for (const s of side?.steps ?? []) {
    if (s.direction !== 'in') continue;
    if (path.length === 0) path.push(s.stateBefore);
    if (path[path.length - 1] !== s.stateAfter) path.push(s.stateAfter);
  }
  let divergence: Divergence | undefined;
  if (side) {
    const r = checkSide(side, { handshake: 0, label });
    if (!r.conforms) {
      const v = r.violation;
      divergence = {
        step: v.step,
        state: v.state,
        message: v.message,
        requirement: v.requirement,
        section: v.section,
        alert: v.alert,
        recorded: v.recorded,
      };
    }
  }
  return { label, trace: rel, statePath: path, divergence };
}
