import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, taint } from './common.js';

/** Attacker: a chunk in flight overtakes the next one going the same way. */
export class ReorderCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (s && s.queue.length > 1) {
      const i = this.pick % s.queue.length;
      const a = s.queue[i];
      const j = a ? s.queue.findIndex((c, k) => k > i && c.dir === a.dir) : -1;
      const b = s.queue[j];
      if (a && b && j > i) {
        s.queue[i] = b;
        s.queue[j] = a;
        taint(m, s, 'reorder');
      }
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Reorder(#${this.pick})`;
}
