/**
 * Trace mutations for the monitor's tests: a received message skipped, two
 * swapped, one rewritten (and re-encoded), or one inserted — the kinds of
 * misbehaviour a conformance monitor must name.
 */
import { fromHex, toHex } from '../../crypto/bytes.js';
import { decodeHandshake, encodeHandshake } from '../../wire/handshake.js';
import type { HandshakeMessage, Unencoded } from '../../wire/types.js';
import { messageFields, type Role, type SideTrace, type Trace, type TraceStep } from '../format.js';

const clone = (t: Trace): Trace => JSON.parse(JSON.stringify(t)) as Trace;

function sideOf(t: Trace, handshake: number, role: Role): SideTrace {
  const side = t.handshakes[handshake]?.sides.find((s) => s.role === role);
  if (!side) throw new Error(`no ${role} in handshake ${handshake}`);
  return side;
}

function indexOfReceived(side: SideTrace, type: string, nth = 0): number {
  let seen = 0;
  const i = side.steps.findIndex((s) => s.direction === 'in' && s.message?.type === type && seen++ === nth);
  if (i < 0) throw new Error(`no received ${type}`);
  return i;
}

/** The side never received its `type` message. */
export function skipReceived(t: Trace, handshake: number, role: Role, type: string): Trace {
  const out = clone(t);
  const side = sideOf(out, handshake, role);
  side.steps.splice(indexOfReceived(side, type), 1);
  return out;
}

/** The side received `a` and `b` in the other order. */
export function swapReceived(t: Trace, handshake: number, role: Role, a: string, b: string): Trace {
  const out = clone(t);
  const side = sideOf(out, handshake, role);
  const i = indexOfReceived(side, a);
  const j = indexOfReceived(side, b);
  const si = side.steps[i] as TraceStep;
  const sj = side.steps[j] as TraceStep;
  // Message content moves; position, states and guard records stay where they were.
  const mi = si.message;
  const mj = sj.message;
  if (!mi || !mj) throw new Error('not handshake steps');
  si.message = mj;
  sj.message = mi;
  return out;
}

/** The side received its `type` message (the nth of that type) changed by `fn` (re-encoded, so the bytes are those of a real message). */
export function rewriteReceived<M extends HandshakeMessage>(
  t: Trace,
  handshake: number,
  role: Role,
  type: M['type'],
  fn: (m: Unencoded<M>) => Unencoded<M>,
  nth = 0,
): Trace {
  const out = clone(t);
  const side = sideOf(out, handshake, role);
  const step = side.steps[indexOfReceived(side, type, nth)] as TraceStep;
  const d = decodeHandshake(fromHex(step.message?.hex ?? ''));
  if (!d.ok) throw new Error(d.error.message);
  const { raw: _raw, ...body } = d.value as M;
  const msg = encodeHandshake(fn(body as Unencoded<M>) as Unencoded<HandshakeMessage>);
  step.message = { type: msg.type, encrypted: step.message?.encrypted ?? false, hex: toHex(msg.raw), fields: messageFields(msg) };
  return out;
}

/** The side received `msg` right after its `after` message (a step as a conforming-looking trace would show it). */
export function insertReceivedAfter(t: Trace, handshake: number, role: Role, after: string, msg: HandshakeMessage): Trace {
  const out = clone(t);
  const side = sideOf(out, handshake, role);
  const i = indexOfReceived(side, after);
  const prev = side.steps[i] as TraceStep;
  const step: TraceStep = {
    seq: prev.seq,
    direction: 'in',
    kind: 'handshake',
    records: [],
    message: { type: msg.type, encrypted: true, hex: toHex(msg.raw), fields: messageFields(msg) },
    event: null,
    stateBefore: prev.stateAfter,
    stateAfter: prev.stateAfter,
    guards: [],
    transitions: [],
  };
  side.steps.splice(i + 1, 0, step);
  return out;
}

/** The decoded message of a received step, for building insertions. */
export function receivedMessage(t: Trace, handshake: number, role: Role, type: string): HandshakeMessage {
  const side = sideOf(t, handshake, role);
  const step = side.steps[indexOfReceived(side, type)] as TraceStep;
  const d = decodeHandshake(fromHex(step.message?.hex ?? ''));
  if (!d.ok) throw new Error(d.error.message);
  return d.value;
}
