/**
 * Counterexamples replay. Every JSON file under properties/counterexamples/
 * (or only the one named by TLSCHART_REPLAY) is fed again, chunk by chunk,
 * to fresh connections, and the session properties are checked on them: a
 * saved counterexample keeps failing here until the bug it shows is fixed.
 * The replay itself is checked first on a freshly recorded world.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrace, serializeTrace } from '../traces/format.js';
import { checkTrace } from '../traces/monitor.js';
import { TraceCollector } from '../traces/recorder.js';
import { CompleteHandshakeCommand } from './model/commands/complete-handshake.js';
import { ConnectCommand } from './model/commands/connect.js';
import { FlipBitCommand } from './model/commands/flip-bit.js';
import { ForceHelloRetryCommand } from './model/commands/force-hello-retry.js';
import { ReconnectWithTicketCommand } from './model/commands/reconnect-with-ticket.js';
import { WriteDataCommand } from './model/commands/write-data.js';
import { KNOWN_ATTACKS, knownSetup } from './model/known-attacks.js';
import { runWorld } from './model/run.js';
import {
  COUNTEREXAMPLE_DIR,
  type CounterexampleFile,
  describeWorld,
  readCounterexample,
  replayCounterexample,
} from './support/counterexample.js';
import { type Identities, identities } from './support/identities.js';

let ids: Identities;
beforeAll(async () => {
  ids = await identities();
});

const saved = (): string[] => {
  const only = process.env.TLSCHART_REPLAY;
  if (only) return [resolve(only)];
  if (!existsSync(COUNTEREXAMPLE_DIR)) return [];
  return readdirSync(COUNTEREXAMPLE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.trace.json'))
    .map((f) => join(COUNTEREXAMPLE_DIR, f));
};

describe('replaying recorded sessions', () => {
  it('reproduces a recorded world byte for byte: same final states and alerts, properties still hold', async () => {
    const cmds = [
      new ConnectCommand('A', 'localhost'),
      new CompleteHandshakeCommand(),
      new ForceHelloRetryCommand(),
      new ReconnectWithTicketCommand(0, 'issuer'),
      new CompleteHandshakeCommand(),
      new WriteDataCommand('client', 2000),
      new ReconnectWithTicketCommand(1, 'issuer'),
      new FlipBitCommand(0, 801),
      new CompleteHandshakeCommand(),
    ];
    const world = await runWorld(ids, knownSetup({ server: { clientAuth: 'request' } }), 7, cmds);
    const file = JSON.parse(JSON.stringify(describeWorld(world, { seed: 7, counterexamplePath: '' }, 'self-test'))) as CounterexampleFile;
    expect(file.sessions).toHaveLength(3);
    expect(file.sessions.map((s) => s.final.client.state)).toEqual(world.sessions.map((s) => s.client.state));
    const collector = new TraceCollector({ peer: 'property-suite replay', scenario: 'self-test' });
    const results = await replayCounterexample(file, { collector });
    for (const r of results) {
      expect(r.same, `session ${r.session} ended as ${JSON.stringify(r.final)}`).toBe(true);
      expect(r.violations).toEqual([]);
    }
    // The same replay, in the project's trace format: it parses, and the monitor reads every session.
    const parsed = parseTrace(serializeTrace(collector.trace(new Date(0))));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.trace.handshakes).toHaveLength(3);
      expect(checkTrace(parsed.trace).steps).toBeGreaterThan(10);
    }
    // The replay really re-ran the handshake: the resumed session ends connected again, the tampered one failed.
    expect(results[1]?.final).toEqual({ client: { state: 'connected', alert: null }, server: { state: 'connected', alert: null } });
    expect(results[2]?.final.server.state === 'failed' || results[2]?.final.client.state === 'failed').toBe(true);
  }, 60_000);

  it('replays each known attack the way it was recorded', async () => {
    for (const attack of KNOWN_ATTACKS.slice(0, 6)) {
      const world = await runWorld(ids, attack.setup, 1, attack.commands());
      const file = JSON.parse(JSON.stringify(describeWorld(world, { seed: 1 }, 'self-test'))) as CounterexampleFile;
      for (const r of await replayCounterexample(file)) {
        expect(r.same, `${attack.name}: session ${r.session}`).toBe(true);
        expect(r.violations).toEqual([]);
      }
    }
  }, 60_000);

  it('finds every saved counterexample fixed: its sessions, replayed, keep properties 1-7', async () => {
    for (const path of saved()) {
      // Beside each counterexample, its sessions in the project trace format (tlschart trace view FILE).
      const collector = new TraceCollector({ peer: 'property-suite replay', scenario: path });
      const results = await replayCounterexample(readCounterexample(path), { collector });
      await collector.save(path.replace(/\.json$/, '.trace.json'));
      const violations = results.flatMap((r) => r.violations.map((v) => `session ${r.session}: ${v}`));
      expect(violations, `${path} still shows a violation`).toEqual([]);
    }
  }, 120_000);
});
