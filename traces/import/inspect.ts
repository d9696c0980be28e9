/**
 * A trace replayed into an XState inspector (`tlschart trace import --inspect`):
 * one inspected actor per side of each handshake, with the definition of its
 * chart (states, events, guard and action names), then, step by step, the
 * event the side received (or its own move: app.write, app.close,
 * app.keyUpdate) and the state the trace gives it afterwards.
 *
 * What reaches the inspector is what the trace holds (public by
 * construction: message fields, record lengths, states), and it goes through
 * `sanitiseInspectionEvent` as every other inspected actor does.
 */
import type { InspectionEvent } from 'xstate';
import { clientMachine } from '../../machines/client/machine.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { SideTrace, Trace, TraceStep } from '../format.js';
import { sanitiseInspectionEvent } from '../inspect.js';

const FINAL = new Set(['closed', 'failed']);

/** Send every side of every handshake to `inspect`; returns how many actors were announced. */
export function inspectTrace(trace: Trace, inspect: (ev: InspectionEvent) => void): number {
  let actors = 0;
  trace.handshakes.forEach((hs, h) => {
    for (const side of hs.sides) {
      replaySide(side, `${side.role} · ${hs.label}`, `tlschart.trace.${h}.${side.role}`, inspect);
      actors++;
    }
  });
  return actors;
}

function replaySide(side: SideTrace, id: string, sessionId: string, inspect: (ev: InspectionEvent) => void): void {
  const machine = side.role === 'client' ? clientMachine : serverMachine;
  let value = side.steps[0]?.stateBefore ?? side.outcome.state;
  const snapshot = () => ({ status: FINAL.has(value) ? 'done' : 'active', value, context: {} });
  const actor = { id, sessionId, logic: { config: machine.config }, getSnapshot: snapshot };
  const emit = (ev: Record<string, unknown>) =>
    inspect(sanitiseInspectionEvent({ ...ev, actorRef: actor, rootId: sessionId } as unknown as InspectionEvent));
  emit({ type: '@xstate.actor' });
  emit({ type: '@xstate.snapshot', snapshot: snapshot(), event: { type: 'xstate.init' } });
  const sent = new Set<number>();
  for (const step of side.steps) {
    const ev = step.event;
    if (ev === null) continue;
    // Received events, and the side's own moves once each (a reply step repeats the event it answers).
    const own = step.direction === 'out' && ev.type.startsWith('app.') && !sent.has(ev.id);
    if (step.direction !== 'in' && !own) continue;
    sent.add(ev.id);
    const event = { type: ev.type, ...payload(step) };
    emit({ type: '@xstate.event', event, sourceRef: undefined });
    value = step.stateAfter;
    emit({ type: '@xstate.snapshot', snapshot: snapshot(), event });
  }
}

/** What the event carried, as the trace has it (message fields, alert, lengths). */
function payload(step: TraceStep): Record<string, unknown> {
  if (step.message) return { msg: step.message.fields };
  if (step.alert) return { alert: step.alert };
  if (step.applicationData) return { length: step.applicationData.length };
  if (step.error) return { error: step.error };
  return {};
}
