/**
 * The mutation gate: for each crypto guard, a chart whose guard always
 * passes (or, for a "has…Problem" guard, never finds a problem) is built
 * with `machine.provide({ guards })`, and the suites must find a
 * counterexample against it — at level (a) by exploring the pure chart over
 * the symbolic alphabet, at level (b) by running the known attack aimed at
 * that guard through the engine pair. A mutant that survives fails its test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { clientMachine } from '../machines/client/machine.js';
import { serverMachine } from '../machines/server/machine.js';
import { PropertyViolation } from './model/commands/common.js';
import { KNOWN_ATTACKS } from './model/known-attacks.js';
import { runWorld } from './model/run.js';
import { firstViolation } from './support/graph.js';
import { type Identities, identities } from './support/identities.js';
import { buildMaterial, type Material } from './support/material.js';

let ids: Identities;
let material: Material;
beforeAll(async () => {
  ids = await identities();
  material = buildMaterial(ids);
});

/** [guard, the value the mutant always returns]. */
const CLIENT_GUARDS: Array<[string, boolean]> = [
  ['isServerCertificateTrusted', true],
  ['isSignatureSchemeAcceptable', true],
  ['isServerSignatureValid', true],
  ['isServerFinishedValid', true],
  ['hasServerHelloProblem', false],
  ['isValidHelloRetryRequest', true],
];
const SERVER_GUARDS: Array<[string, boolean]> = [
  ['hasValidBinder', true],
  ['isClientFinishedValid', true],
  ['isClientSignatureValid', true],
  ['isClientCertificateTrusted', true],
  ['hasClientHelloProblem', false],
  ['isSignatureSchemeAcceptable', true],
];

async function engineCounterexample(side: 'client' | 'server', guard: string, options: Parameters<typeof runWorld>[4]): Promise<string[]> {
  const found: string[] = [];
  const attacks = KNOWN_ATTACKS.filter((a) => a.exposes.includes(`${side}.${guard}`));
  expect(attacks.length, `a known attack aimed at ${side}.${guard}`).toBeGreaterThan(0);
  for (const a of attacks) {
    try {
      await runWorld(ids, a.setup, 0, a.commands(), options);
    } catch (e) {
      if (!(e instanceof PropertyViolation)) throw e;
      found.push(`${a.name}: ${e.message.split('\n')[0]}`);
    }
  }
  return found;
}

describe('the mutation gate: every crypto guard is needed', () => {
  for (const [guard, value] of CLIENT_GUARDS) {
    it(`catches a client whose ${guard} always says ${value}`, async () => {
      expect(Object.keys(clientMachine.implementations.guards)).toContain(guard);
      const mutant = clientMachine.provide({ guards: { [guard]: () => value } });
      const pure = material.clientCases.map((c) => firstViolation('client', mutant, c.input, c.alphabet)).find((v) => v !== undefined);
      const engine = await engineCounterexample('client', guard, { clientMachine: mutant });
      console.log(
        `client mutant ${guard} → ${value}\n  level (a): ${pure ?? 'survived'}\n  level (b): ${engine.join('\n             ') || 'survived'}`,
      );
      expect(pure, 'level (a) found no counterexample').toBeDefined();
      expect(engine, 'level (b) found no counterexample').not.toEqual([]);
    }, 60_000);
  }
  for (const [guard, value] of SERVER_GUARDS) {
    it(`catches a server whose ${guard} always says ${value}`, async () => {
      expect(Object.keys(serverMachine.implementations.guards)).toContain(guard);
      const mutant = serverMachine.provide({ guards: { [guard]: () => value } });
      const pure = material.serverCases.map((c) => firstViolation('server', mutant, c.input, c.alphabet)).find((v) => v !== undefined);
      const engine = await engineCounterexample('server', guard, { serverMachine: mutant });
      console.log(
        `server mutant ${guard} → ${value}\n  level (a): ${pure ?? 'survived'}\n  level (b): ${engine.join('\n             ') || 'survived'}`,
      );
      expect(pure, 'level (a) found no counterexample').toBeDefined();
      expect(engine, 'level (b) found no counterexample').not.toEqual([]);
    }, 60_000);
  }
});
