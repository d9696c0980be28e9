import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, taint } from './common.js';

/** Attacker: a chunk in flight arrives twice. */
export class DuplicateCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (s && s.queue.length > 0) {
      const i = this.pick % s.queue.length;
      const c = s.queue[i];
      if (c) s.queue.splice(i + 1, 0, { dir: c.dir, bytes: c.bytes.slice() });
      taint(m, s, 'duplicate');
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Duplicate(#${this.pick})`;
}
