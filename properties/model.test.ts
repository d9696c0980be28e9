/**
 * Level (b): model-based testing of the sans-IO engine pair (real crypto)
 * with fc.commands / fc.asyncModelRun. A small model (model/model.ts) knows
 * the clock, the client's tickets and what an honest connection must end
 * in; the commands (model/commands/, one per file) are honest actions and an
 * attacker on the wire. After every command properties 1-7 are checked on
 * both sides (model/invariants.ts, model/world.ts).
 *
 * Known attack traces from the literature run first, as fixed examples.
 */
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { arbWorldSetup } from './arbitraries/config.js';
import { allCommands } from './model/commands/index.js';
import { knownAttackExamples } from './model/known-attacks.js';
import { runWorld } from './model/run.js';
import type { World } from './model/world.js';
import { FC_REPLAY_PATH, fcParameters, timeoutFor } from './settings.js';
import { saveCounterexample } from './support/counterexample.js';
import { type Identities, identities } from './support/identities.js';

let ids: Identities;
beforeAll(async () => {
  ids = await identities();
});

describe('the engine pair against an attacker on the wire (model-based)', () => {
  it(
    'keeps properties 1-7 on both sides after every honest or attacking step',
    async () => {
      let failed: World | undefined;
      const examples = knownAttackExamples();
      await fc.assert(
        fc.asyncProperty(
          arbWorldSetup,
          fc.nat(1_000_000),
          fc.commands(allCommands, { maxCommands: 24, size: 'medium', ...(FC_REPLAY_PATH ? { replayPath: FC_REPLAY_PATH } : {}) }),
          async (setup, seed, cmds) => {
            let world: World | undefined;
            try {
              await runWorld(ids, setup, seed, cmds, {}, (w) => (world = w));
            } catch (e) {
              failed = world; // the last failing run is the (shrunk) counterexample fast-check reports
              throw e;
            }
          },
        ),
        fcParameters(25, 600, {
          examples,
          reporter: (details) => {
            if (!details.failed) return;
            const file = failed ? saveCounterexample('model', failed, details) : undefined;
            const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
            const replay = /replayPath="([^"]*)"/.exec(String(details.counterexample?.[2]))?.[1];
            const again = `FC_SEED=${details.seed} FC_PATH='${details.counterexamplePath ?? ''}'${replay ? ` FC_REPLAY_PATH='${replay}'` : ''} npx vitest run properties/model.test.ts`;
            throw new Error(
              `${fc.defaultReportMessage(details) ?? 'property failed'}\n${cause}\nRun it again: ${again}${file ? `\nCounterexample saved to ${file} (replay: TLSCHART_REPLAY=${file} npx vitest run properties/replay.test.ts)` : ''}`,
            );
          },
        }),
      );
    },
    timeoutFor(25, 600, 1500),
  );
});
