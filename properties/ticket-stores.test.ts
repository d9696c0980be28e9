/**
 * The ticket stores against a model: any interleaving of put / get / take /
 * simultaneous takes from several servers' handles / the clock moving on
 * gives the answers a plain map with lifetimes gives (the contract of
 * tickets/types.ts). The Redis store runs with three handles, each on its own
 * connection to one real redis-server, as three servers of one service would;
 * the memory store with one handle, as one server.
 *
 * Quick by default; `npm run test:props` (TLSCHART_DEEP=1) or FC_NUM_RUNS for more.
 */

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { RedisTicketStore } from '../tickets/redis-store.js';
import { testRedis, uniquePrefix } from '../tickets/testing/redis.js';
import type { ServerSessionState, TicketStore } from '../tickets/types.js';
import { fcParameters, timeoutFor } from './settings.js';

const TICKETS = 4;

type Command =
  | { kind: 'put'; handle: number; ticket: number; issuedAgoS: number; lifetimeS: number; alpn: string | undefined }
  | { kind: 'get'; handle: number; ticket: number }
  | { kind: 'take'; handle: number; ticket: number }
  /** Every handle takes the same ticket at once. */
  | { kind: 'takeRace'; ticket: number }
  | { kind: 'advance'; seconds: number };

const handleArb = fc.nat(2);
const ticketArb = fc.nat(TICKETS - 1);

/**
 * Lifetimes of minutes and a clock that jumps by seconds to minutes: expiry
 * is the injected clock's (the rule of types.ts). A state that is live has at
 * least 30 s left, so Redis's own TTL (real time) never ends it during a run.
 */
const putArb = fc
  .record({
    handle: handleArb,
    ticket: ticketArb,
    lifetimeS: fc.integer({ min: 60, max: 600 }),
    issuedAgoS: fc.integer({ min: 0, max: 700 }),
    alpn: fc.constantFrom(undefined, 'h2', 'http/1.1'),
  })
  .map(({ lifetimeS, issuedAgoS, ...rest }): Command => {
    const left = lifetimeS - issuedAgoS;
    return { kind: 'put', ...rest, lifetimeS, issuedAgoS: left > 0 && left < 30 ? lifetimeS : issuedAgoS };
  });

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: putArb, weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), handle: handleArb, ticket: ticketArb }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('take' as const), handle: handleArb, ticket: ticketArb }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('takeRace' as const), ticket: ticketArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 400 }) }), weight: 2 },
);

interface Subject {
  handles: TicketStore[];
  close(): Promise<void>;
}

/** Run the commands against the handles and the model; fail at the first answer the model would not give. */
async function check(commands: Command[], open: (now: () => number) => Promise<Subject>): Promise<void> {
  let now = Date.now();
  const clock = () => now;
  const tickets = Array.from({ length: TICKETS }, () => new Uint8Array(randomBytes(32)));
  const model = new Map<number, ServerSessionState>();
  const live = (t: number): ServerSessionState | undefined => {
    const s = model.get(t);
    return s !== undefined && s.issuedAtMs + s.lifetimeS * 1000 > now ? s : undefined;
  };
  const subject = await open(clock);
  const handle = (i: number) => subject.handles[i % subject.handles.length] as TicketStore;
  try {
    for (const [step, c] of commands.entries()) {
      const at = `step ${step} ${JSON.stringify(c)}`;
      switch (c.kind) {
        case 'put': {
          const state: ServerSessionState = {
            psk: new Uint8Array(randomBytes(32)),
            suite: 0x1301,
            serverName: 'example.test',
            alpn: c.alpn,
            issuedAtMs: now - c.issuedAgoS * 1000,
            lifetimeS: c.lifetimeS,
            ticketAgeAdd: randomBytes(4).readUInt32BE(0),
            clientCertificates: [],
          };
          await handle(c.handle).put(tickets[c.ticket] as Uint8Array, state);
          model.set(c.ticket, state);
          break;
        }
        case 'get':
          expect(await handle(c.handle).get(tickets[c.ticket] as Uint8Array), at).toEqual(live(c.ticket));
          break;
        case 'take':
          expect(await handle(c.handle).take(tickets[c.ticket] as Uint8Array), at).toEqual(live(c.ticket));
          model.delete(c.ticket);
          break;
        case 'takeRace': {
          const expected = live(c.ticket);
          const got = await Promise.all(subject.handles.map((h) => h.take(tickets[c.ticket] as Uint8Array)));
          const winners = got.filter((s) => s !== undefined);
          expect(winners, at).toHaveLength(expected === undefined ? 0 : 1);
          if (expected !== undefined) expect(winners[0], at).toEqual(expected);
          model.delete(c.ticket);
          break;
        }
        case 'advance':
          now += c.seconds * 1000;
          break;
      }
    }
  } finally {
    await subject.close();
  }
}

const commandsArb = fc.array(commandArb, { minLength: 1, maxLength: 30 });

describe('ticket stores against a model of put, get, take and expiry', () => {
  it('MemoryTicketStore answers as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb, (commands) =>
        check(commands, async (now) => {
          const store = new MemoryTicketStore({ now });
          return { handles: [store], close: async () => undefined };
        }),
      ),
      fcParameters(200, 5000),
    );
  });

  const redis = testRedis();
  afterAll(() => redis.stop());

  it(
    'RedisTicketStore, three servers on one Redis, answers as the model does',
    async (ctx) => {
      const url = await redis.url(ctx);
      await fc.assert(
        fc.asyncProperty(commandsArb, (commands) =>
          check(commands, async (now) => {
            const prefix = uniquePrefix();
            const failures: string[] = [];
            const handles = [0, 1, 2].map(() => new RedisTicketStore({ url, prefix, now, log: (l) => failures.push(l) }));
            const close = async () => {
              for (const h of handles) await h.close();
              // A healthy Redis: no call may have failed (a failure would pass for "unknown ticket").
              expect(failures).toEqual([]);
            };
            for (const h of handles) {
              if (!(await h.whenReady(10_000))) {
                await close();
                throw new Error(`no connection to ${url}`);
              }
            }
            return { handles, close };
          }),
        ),
        fcParameters(50, 5000),
      );
    },
    timeoutFor(50, 5000, 20),
  );
});
