import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep } from './common.js';

/** Honest: deliver only what the server sent (its flight, its tickets, its data) to the client. */
export class ReceiveTicketsCommand implements fc.AsyncCommand<Model, World> {
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    await w.current?.deliverAll('toClient');
    afterStep(m, w, this.toString());
  }
  toString = (): string => 'ReceiveTickets';
}
