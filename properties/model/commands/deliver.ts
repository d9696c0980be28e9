import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep } from './common.js';

/** Honest: the network delivers up to `count` chunks going one way (a step of the handshake). */
export class DeliverCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly dir: 'toServer' | 'toClient',
    readonly count: number,
  ) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    for (let i = 0; s && i < this.count; i++) {
      const j = s.queue.findIndex((c) => c.dir === this.dir);
      if (j < 0) break;
      await s.deliver(j);
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Deliver(${this.count} ${this.dir})`;
}
