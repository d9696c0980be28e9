/**
 * What the trace itself shows of a step: the guard outcomes recorded for it,
 * the alert the side sent while handling it, and what it sent back. The
 * monitor takes from here only what needs secrets or the side's own policy.
 */
import { fromHex } from '../../crypto/bytes.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake } from '../../wire/handshake.js';
import type { SideTrace, TraceStep } from '../format.js';

/** A short name for a step: the message type, alert(x), or the record kind. */
export function describeStep(s: TraceStep): string {
  if (s.kind === 'handshake') return s.message?.type ?? 'handshake';
  if (s.kind === 'alert') return `alert(${s.alert?.description ?? '?'})`;
  return s.kind;
}

/** The outcome the trace recorded for a guard on this step, if it recorded one. */
export const recordedGuard = (step: TraceStep, name: string): boolean | undefined => step.guards.find((g) => g.guard === name)?.result;

/** What the recorded side sent while handling `step`'s event. */
export const repliesTo = (side: SideTrace, step: TraceStep): TraceStep[] =>
  side.steps.filter((s) => s.direction === 'out' && step.event !== null && s.event?.id === step.event.id);

/** The fatal alert the recorded side sent while handling `step`'s event (or the side's final alert if it failed there). */
export function recordedAlert(side: SideTrace, step: TraceStep): string | undefined {
  const sent = repliesTo(side, step).find((s) => s.kind === 'alert' && s.alert?.level === 2);
  if (sent?.alert) return sent.alert.description;
  if (step.stateAfter === 'failed') return side.outcome.alert;
  return undefined;
}

/** The side failed on this step with one of `alerts`. */
export const failedWith = (side: SideTrace, step: TraceStep, ...alerts: string[]): boolean =>
  step.stateAfter === 'failed' && alerts.includes(recordedAlert(side, step) ?? '');

const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
/** ServerHello hex: 4-byte header, 2-byte legacy_version, then the random (§4.1.3: the HelloRetryRequest random). */
export const isHelloRetryHex = (hex: string): boolean => hex.slice(12, 12 + 64) === HRR_RANDOM;

/** The server answered this ClientHello with a HelloRetryRequest. */
export const repliedWithRetry = (side: SideTrace, step: TraceStep): boolean =>
  repliesTo(side, step).some((s) => s.message?.type === 'server_hello' && isHelloRetryHex(s.message.hex));

/** The server answered this ClientHello with a ServerHello that selects a PSK. */
export function repliedResumed(side: SideTrace, step: TraceStep): boolean {
  const sh = repliesTo(side, step).find((s) => s.message?.type === 'server_hello' && !isHelloRetryHex(s.message.hex));
  if (!sh?.message) return false;
  const d = decodeHandshake(fromHex(sh.message.hex));
  return d.ok && d.value.type === 'server_hello' && findExtension(d.value.extensions, 'pre_shared_key_server') !== undefined;
}

/** The server's flight for this ClientHello carries a CertificateRequest. */
export const repliedWithCertificateRequest = (side: SideTrace, step: TraceStep): boolean =>
  repliesTo(side, step).some((s) => s.message?.type === 'certificate_request');
