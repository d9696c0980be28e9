/**
 * The one place the property suites read their knobs from the environment.
 *
 *   FC_NUM_RUNS    generated runs per property (overrides every suite's default; fixed examples come on top)
 *   FC_SEED        fast-check seed (replays a reported counterexample with FC_PATH)
 *   FC_PATH        fast-check path printed with a counterexample
 *   FC_REPLAY_PATH the replayPath fast-check prints in a failing command list (model-based suite)
 *   FC_TIME_LIMIT  seconds per property; a property stops early (without failing) when it is reached
 *   TLSCHART_DEEP  set by `npm run test:props`: many more runs per suite
 *
 * Default (`npm test`) runs are kept small so that every property suite of
 * this folder together stays well under a minute on two cores; deep runs are
 * for CI jobs and for hunting.
 */
import type fc from 'fast-check';

const env = process.env;

/** `npm run test:props` (TLSCHART_DEEP=1): deep mode. */
export const DEEP = env.TLSCHART_DEEP !== undefined && env.TLSCHART_DEEP !== '' && env.TLSCHART_DEEP !== '0';

function positiveInt(name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

export const FC_NUM_RUNS = positiveInt('FC_NUM_RUNS');
export const FC_SEED = env.FC_SEED === undefined || env.FC_SEED === '' ? undefined : Number(env.FC_SEED);
export const FC_PATH = env.FC_PATH === undefined || env.FC_PATH === '' ? undefined : env.FC_PATH;
/** fc.commands replay path of a model-based counterexample (the replayPath printed after its commands). */
export const FC_REPLAY_PATH = env.FC_REPLAY_PATH === undefined || env.FC_REPLAY_PATH === '' ? undefined : env.FC_REPLAY_PATH;
/** Seconds. */
export const FC_TIME_LIMIT = positiveInt('FC_TIME_LIMIT');

if (FC_SEED !== undefined && !Number.isInteger(FC_SEED)) throw new Error(`FC_SEED must be an integer, got ${env.FC_SEED}`);

/** Runs for one property: FC_NUM_RUNS if set, else the suite's default or deep figure. */
export function runs(defaultRuns: number, deepRuns: number): number {
  return FC_NUM_RUNS ?? (DEEP ? deepRuns : defaultRuns);
}

/**
 * fast-check parameters for one property. The seed is fixed per process
 * (printed by fast-check on failure), FC_SEED/FC_PATH replay a
 * counterexample, FC_TIME_LIMIT bounds the time spent.
 */
export function fcParameters<T>(defaultRuns: number, deepRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  // fast-check counts `examples` among numRuns: add them, so the figures are generated runs.
  const p: fc.Parameters<T> = { ...extra, numRuns: runs(defaultRuns, deepRuns) + (extra.examples?.length ?? 0) };
  if (FC_SEED !== undefined) p.seed = FC_SEED;
  if (FC_PATH !== undefined) p.path = FC_PATH;
  if (FC_TIME_LIMIT !== undefined) {
    p.interruptAfterTimeLimit = FC_TIME_LIMIT * 1000;
    p.markInterruptAsFailure = false;
  }
  return p;
}

/** A vitest timeout (ms) for a property whose single run costs about `msPerRun`. */
export function timeoutFor(defaultRuns: number, deepRuns: number, msPerRun: number): number {
  const n = runs(defaultRuns, deepRuns);
  const budget = FC_TIME_LIMIT !== undefined ? FC_TIME_LIMIT * 1000 + 60_000 : n * msPerRun * 4 + 60_000;
  return Math.max(60_000, budget);
}
