/**
 * Level (a), randomly: the pure statecharts folded with xstate's
 * `transition()` over generated event sequences — an honest scenario's
 * prefix, then any events of the alphabet (real messages of other sessions,
 * mutated messages, alerts, CCS, application events), with possibly one
 * message altered at the byte level and decoded again as the engine would.
 * Properties 1-7 are checked after every event, and a chart whose transcript
 * took an altered message must never reach `connected`.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { suiteInfo } from '../crypto/suites.js';
import type { ClientContext } from '../machines/client/context.js';
import type { ServerContext } from '../machines/server/context.js';
import { arbTicketVariant } from './arbitraries/tickets.js';
import { fcParameters, timeoutFor } from './settings.js';
import { checkClientStep, checkServerStep, type LabelledEvent } from './support/chart-checks.js';
import { identities } from './support/identities.js';
import { buildMaterial, type ChartCase, type Material } from './support/material.js';
import {
  type AnyChart,
  type ClientChart,
  eventForRaw,
  type ServerChart,
  type Snapshot,
  startClient,
  startServer,
  stateOf,
  step,
} from './support/pure.js';
import { flipBit } from './support/records.js';

let material: Material;
beforeAll(async () => {
  material = buildMaterial(await identities());
});

type Case = { side: 'client' | 'server'; c: ChartCase<unknown> & { machine: AnyChart } };

interface Run {
  ci: number;
  scenario: number;
  cut: number;
  tail: number[];
  flip: { at: number; bit: number } | undefined;
}

const cases = (): Case[] => [
  ...material.clientCases.map((c) => ({ side: 'client' as const, c: c as Case['c'] })),
  ...material.serverCases.map((c) => ({ side: 'server' as const, c: c as Case['c'] })),
];

function arbRun(all: Case[]): fc.Arbitrary<Run> {
  return fc.integer({ min: 0, max: all.length - 1 }).chain((ci) => {
    const c = (all[ci] as Case).c;
    return fc.record({
      ci: fc.constant(ci),
      scenario: fc.nat(c.scenarios.length - 1),
      cut: fc.nat(12),
      tail: fc.array(fc.nat(c.alphabet.length - 1), { maxLength: 6 }),
      flip: fc.option(fc.record({ at: fc.nat(40), bit: fc.nat(1 << 20) }), { nil: undefined }),
    });
  });
}

/**
 * Fold one generated run; returns the violations with the path that led to
 * them. Like an actor, the fold stops once the chart is done (a top-level
 * final state); `afterFinal` instead goes on and reports any transition out
 * of `failed` or `closed` (final states must be absorbing).
 */
function fold(all: Case[], run: Run, afterFinal = false): string[] {
  const { side, c } = all[run.ci] as Case;
  const scenario = c.scenarios[run.scenario] ?? c.scenarios[0];
  const events: LabelledEvent[] = [...(scenario?.events ?? []).slice(0, run.cut), ...run.tail.map((i) => c.alphabet[i] as LabelledEvent)];
  const flipAt = run.flip && events.length > 0 ? run.flip.at % events.length : -1;
  let s: Snapshot =
    side === 'client' ? startClient(c.machine as ClientChart, c.input as never) : startServer(c.machine as ServerChart, c.input as never);
  const path: string[] = [];
  const out: string[] = [];
  let tainted = false;
  for (let i = 0; i < events.length; i++) {
    if (s.status !== 'active' && !afterFinal) break;
    let le = events[i] as LabelledEvent;
    let altered = false;
    if (i === flipAt && 'msg' in le.event && run.flip) {
      const raw = (le.event.msg as { raw: Uint8Array }).raw;
      const hashLen = (s.context as ClientContext | ServerContext).suite?.hashLen;
      const tickets = le.event.type === 'recv.ClientHello' ? [...le.event.tickets] : [];
      const bit = run.flip.bit % (raw.length * 8);
      le = { label: `${le.label} with bit ${bit} flipped`, event: eventForRaw(flipBit(raw, bit), hashLen, tickets) };
      altered = le.event.type !== 'recv.Malformed';
    }
    path.push(le.label);
    const before = stateOf(s);
    const r = step(c.machine, s, le.event);
    const v = afterFinal
      ? before === 'failed' || before === 'closed'
        ? stateOf(r.snapshot) === before && r.thrown === undefined
          ? []
          : [`the final state ${before} was left for ${stateOf(r.snapshot)} on ${le.label}`]
        : []
      : side === 'client'
        ? checkClientStep(s as never, le, r.snapshot as never, r.thrown)
        : checkServerStep(s as never, le, r.snapshot as never, r.thrown);
    s = r.snapshot;
    if (altered && before !== 'connected' && stateOf(s) !== 'failed') tainted = true;
    if (tainted && stateOf(s) === 'connected' && before !== 'connected')
      v.push('connected although a message of its transcript was altered in flight');
    if (v.length > 0) out.push(`${c.name}: ${v.join('; ')}\n    path: ${path.join(' → ')}`);
    if (r.thrown !== undefined) break;
  }
  return out;
}

describe('the pure statecharts folded over generated event sequences', () => {
  it(
    'keep properties 1-7 after every event, whatever the order, origin or integrity of the messages',
    () => {
      const all = cases();
      fc.assert(
        fc.property(arbRun(all), (run) => {
          expect(fold(all, run)).toEqual([]);
        }),
        fcParameters(200, 5000),
      );
    },
    timeoutFor(200, 5000, 20),
  );

  it(
    'never reach connected after an altered message, over the honest scenarios with one bit flipped',
    () => {
      const all = cases();
      const honestWithFlip = fc.integer({ min: 0, max: all.length - 1 }).chain((ci) =>
        fc.record({
          ci: fc.constant(ci),
          scenario: fc.nat((all[ci] as Case).c.scenarios.length - 1),
          cut: fc.constant(40),
          tail: fc.constant([] as number[]),
          flip: fc.record({ at: fc.nat(40), bit: fc.nat(1 << 20) }),
        }),
      );
      fc.assert(
        fc.property(honestWithFlip, (run) => {
          expect(fold(all, run)).toEqual([]);
        }),
        fcParameters(150, 4000),
      );
    },
    timeoutFor(150, 4000, 20),
  );

  it(
    'never resume on a ticket that is unknown, expired, not yet valid, for another name or with a zero lifetime',
    () => {
      // The server charts of the material, each fed the honest resumption of its scenario with the ticket swapped.
      const targets = material.serverCases.filter((c) => c.scenarios.some((s) => s.name === 'resumed'));
      const arb = fc
        .integer({ min: 0, max: targets.length - 1 })
        .chain((i) =>
          fc.tuple(
            fc.constant(i),
            arbTicketVariant(material.ticketState, (targets[i] as (typeof targets)[number]).input.env.now(), 'localhost'),
          ),
        );
      fc.assert(
        fc.property(arb, ([i, variant]) => {
          const c = targets[i] as (typeof targets)[number];
          const events = (c.scenarios.find((s) => s.name === 'resumed')?.events ?? []).map((le) =>
            le.event.type === 'recv.ClientHello' && le.event.tickets.length > 0
              ? { ...le, event: { ...le.event, tickets: [variant.state] } }
              : le,
          );
          let s = startServer(c.machine, c.input);
          const out: string[] = [];
          for (const le of events) {
            if (s.status !== 'active') break;
            const r = step(c.machine, s, le.event);
            out.push(...checkServerStep(s, le, r.snapshot, r.thrown));
            s = r.snapshot;
          }
          expect(out).toEqual([]);
          // Honest offers of a usable ticket resume (suite kept or same hash); nothing else does. After a
          // retry, a ticket that steers the suite elsewhere changes the HelloRetryRequest, so the recorded
          // second ClientHello's binder no longer matches and the server refuses it (decrypt_error).
          const hashOk = c.input.config.cipherSuites.some((x) => suiteInfo(x)?.hash === suiteInfo(material.ticketState.suite)?.hash);
          const retrySteered =
            c.input.config.forceHelloRetry && variant.state !== undefined && variant.state.suite !== material.ticketState.suite;
          expect((s.context as ServerContext).resumed, `${c.name}, ${variant.label}`).toBe(variant.resumable && hashOk && !retrySteered);
        }),
        fcParameters(100, 3000),
      );
    },
    timeoutFor(100, 3000, 30),
  );

  it(
    'treat failed and closed as absorbing: no event takes a chart out of a final state',
    () => {
      // DESIGN: "Failed is final." The engine stops its actor there, but the chart itself must
      // not depend on that: a persisted snapshot or a pure transition() must stay final too.
      const all = cases();
      fc.assert(
        fc.property(arbRun(all), (run) => {
          expect(fold(all, run, true)).toEqual([]);
        }),
        fcParameters(100, 2000),
      );
    },
    timeoutFor(100, 2000, 20),
  );
});
