import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, taint } from './common.js';

/** Attacker: a chunk in flight is lost. */
export class DropCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (s && s.queue.length > 0) {
      s.queue.splice(this.pick % s.queue.length, 1);
      taint(m, s, 'drop');
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Drop(#${this.pick})`;
}
