/** Running a command sequence against a fresh world (the model suite, the replay self-test and the mutation gate share it). */
import fc from 'fast-check';
import type { WorldSetup } from '../arbitraries/config.js';
import type { Identities } from '../support/identities.js';
import type { Cmd } from './commands/index.js';
import { initialModel } from './model.js';
import { World, type WorldOptions } from './world.js';

/** Run `cmds` against a new world; `keep` sees the world first, so a caller still has it when the run throws. */
export async function runWorld(
  ids: Identities,
  setup: WorldSetup,
  seed: number,
  cmds: Iterable<Cmd>,
  options: WorldOptions = {},
  keep?: (w: World) => void,
): Promise<World> {
  const world = new World(setup, ids, `world-${seed}`, options);
  keep?.(world);
  const model = initialModel(setup, world.now);
  await fc.asyncModelRun(() => ({ model, real: world }), cmds);
  return world;
}
