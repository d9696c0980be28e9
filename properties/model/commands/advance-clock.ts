import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, repredict } from './common.js';

/** Honest: time passes (tickets age on both sides and in the stores). */
export class AdvanceClockCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.now += this.ms;
    w.now += this.ms;
    repredict(m, w);
    afterStep(m, w, this.toString());
  }
  toString = (): string => `AdvanceClock(${this.ms} ms)`;
}
