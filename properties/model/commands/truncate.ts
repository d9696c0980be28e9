import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, taint } from './common.js';

/** Attacker: only the first bytes of a chunk get through. */
export class TruncateCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly pick: number,
    readonly keep: number,
  ) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    const c = s && s.queue.length > 0 ? s.queue[this.pick % s.queue.length] : undefined;
    if (s && c && c.bytes.length > 1) {
      c.bytes = c.bytes.slice(0, 1 + (this.keep % (c.bytes.length - 1)));
      taint(m, s, 'truncate');
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Truncate(#${this.pick}, keep ${this.keep})`;
}
