import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, taint } from './common.js';

/** Attacker: a chunk recorded from an earlier session (same direction) is slipped into the stream. */
export class InjectOtherSessionCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly fromSession: number,
    readonly pick: number,
    readonly position: number,
    readonly dir: 'toServer' | 'toClient',
  ) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    const earlier = w.sessions.slice(0, -1);
    const from = earlier.length > 0 ? earlier[this.fromSession % earlier.length] : undefined;
    const chunks = from?.sent.filter((c) => c.dir === this.dir) ?? [];
    const chunk = chunks.length > 0 ? chunks[this.pick % chunks.length] : undefined;
    if (s && chunk) {
      s.queue.splice(this.position % (s.queue.length + 1), 0, { dir: this.dir, bytes: chunk.bytes.slice() });
      taint(m, s, 'injectOtherSession');
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `InjectOtherSession(session #${this.fromSession}, chunk #${this.pick} ${this.dir} at ${this.position})`;
}
