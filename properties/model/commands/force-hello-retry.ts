import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep } from './common.js';

/** Honest: the next connection's server answers the first ClientHello with a HelloRetryRequest (cookie). */
export class ForceHelloRetryCommand implements fc.AsyncCommand<Model, World> {
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.forceHelloRetryNext = true;
    w.forceHelloRetryNext = true;
    afterStep(m, w, this.toString());
  }
  toString = (): string => 'ForceHelloRetry';
}
