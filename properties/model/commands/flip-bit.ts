import type fc from 'fast-check';
import { flipBit, locate } from '../../support/records.js';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, taint } from './common.js';

/** Attacker: one bit of a chunk in flight is flipped (plaintext hello, header or protected record). */
export class FlipBitCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly pick: number,
    readonly bit: number,
  ) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    const c = s && s.queue.length > 0 ? s.queue[this.pick % s.queue.length] : undefined;
    if (s && c && c.bytes.length > 0) {
      const bit = this.bit % (c.bytes.length * 8);
      const { record } = locate(c.bytes, Math.floor(bit / 8));
      c.bytes = flipBit(c.bytes, bit);
      taint(m, s, record?.type === 23 ? 'flipBitEncrypted' : 'flipBitPlaintext');
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `FlipBit(#${this.pick}, bit ${this.bit})`;
}
