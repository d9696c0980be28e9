/**
 * The chart events a recorded step stands for, built from the recorded bytes
 * (never from the step's labels): a received message decoded from its hex, a
 * record kind, or the application's request behind a step the side sent.
 */

import { MESSAGE_EVENTS, type TlsEvent } from '../../machines/types.js';
import { AlertDescription, refuse, type TlsError } from '../../wire/alerts.js';
import { decodeError } from '../../wire/reader.js';
import { isRefusalReason, REFUSALS } from '../../wire/refusals.js';
import type { HandshakeMessage } from '../../wire/types.js';
import type { TraceStep } from '../format.js';
import { decodeRecorded, type Knowledge } from './knowledge.js';

/** The error a malformed step reports: its refusal from the table, or a decode_error if the trace names none we know. */
function malformedError(e: TraceStep['error']): TlsError {
  const message = e?.message ?? 'malformed record';
  if (e && isRefusalReason(e.reason) && REFUSALS[e.reason].alert !== null) return refuse(e.reason as Parameters<typeof refuse>[0], message);
  return refuse('DecodeError', message);
}

/** The event a received step sends to the chart, and the message it carries. */
export function receivedEvent(step: TraceStep, k: Knowledge): { event: TlsEvent; msg?: HandshakeMessage } {
  switch (step.kind) {
    case 'change_cipher_spec':
      return { event: { type: 'recv.ChangeCipherSpec' } };
    case 'alert': {
      const name = step.alert?.description ?? 'internal_error';
      const code = (AlertDescription as Record<string, number>)[name] ?? AlertDescription.internal_error;
      return { event: { type: 'recv.Alert', level: step.alert?.level ?? 2, description: code } };
    }
    case 'application_data':
      return { event: { type: 'recv.ApplicationData', data: new Uint8Array(step.applicationData?.length ?? 0) } };
    case 'malformed':
      return { event: { type: 'recv.Malformed', error: malformedError(step.error) } };
    default: {
      const d = decodeRecorded(step.message?.hex ?? '', k);
      if (!d.ok) return { event: { type: 'recv.Malformed', error: decodeError(d.error) } };
      const msg = d.value;
      // Ticket lookups are the server's own (a store the trace does not show): the monitor's rules take them from the trace.
      if (msg.type === 'client_hello') return { event: { type: 'recv.ClientHello', msg, tickets: [] }, msg };
      return { event: { type: MESSAGE_EVENTS[msg.type], msg } as TlsEvent, msg };
    }
  }
}

/** The application's request behind a step the side sent on its own (write, KeyUpdate, close). */
export function localEvent(step: TraceStep, k: Knowledge): TlsEvent {
  const type = step.event?.type;
  if (type === 'app.close') return { type: 'app.close' };
  if (type === 'app.keyUpdate') {
    const d = step.message ? decodeRecorded(step.message.hex, k) : undefined;
    return { type: 'app.keyUpdate', requestPeerUpdate: d?.ok === true && d.value.type === 'key_update' && d.value.requestUpdate === 1 };
  }
  return { type: 'app.write', data: new Uint8Array(step.applicationData?.length ?? 0) };
}
