/**
 * The known attack traces (model/known-attacks.ts) one by one, as plain
 * tests that read as sentences: each runs through the model-based world
 * (properties 1-7 after every step) and then shows how it ended — the
 * victim refused the attack itself with the alert RFC 8446 names, or, for
 * what tlschart tolerates by design (psk_ke-only, refused 0-RTT under the
 * limit, unusable tickets), the connection completed without resuming.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_ATTACKS } from './model/known-attacks.js';
import { runWorld } from './model/run.js';
import { ALERT_TABLE } from './support/alerts.js';
import { type Identities, identities } from './support/identities.js';

let ids: Identities;
beforeAll(async () => {
  ids = await identities();
});

describe('known attacks from the literature are refused with the exact alert', () => {
  for (const attack of KNOWN_ATTACKS) {
    it(`refuses or absorbs: ${attack.name}`, async () => {
      const world = await runWorld(ids, attack.setup, 0, attack.commands());
      const last = world.sessions.at(-1);
      if (!last) throw new Error('no session');
      const summary = `client ${last.client.state} ${last.client.error?.alert ?? ''}, server ${last.server.state} ${last.server.error?.alert ?? ''}`;
      const refused = last.applied.filter((a) => ALERT_TABLE[a.attack].mustFail);
      if (refused.length > 0) {
        for (const { attack: kind, victim, detect } of refused) {
          const conn = victim === 'client' ? last.client : last.server;
          expect(conn.info, summary).toBeUndefined();
          if (detect) {
            expect(conn.state, summary).toBe('failed');
            expect(conn.error?.remote, summary).toBe(false);
            expect(ALERT_TABLE[kind].alerts, summary).toContain(conn.error?.alert);
          }
        }
      } else {
        // Tolerated by design: the last connection completed, and never on a ticket it must not use.
        expect([last.client.state, last.server.state], summary).not.toContain('failed');
        if (last.options.clientVariant === 'pskKeOnly' || attack.name.includes('ticket'))
          expect(last.server.context.resumed, summary).toBe(false);
      }
      expect(last.exceptions).toEqual([]);
    }, 30_000);
  }
});
