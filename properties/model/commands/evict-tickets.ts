import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, repredict } from './common.js';

/** Honest: a server forgets one ticket, or all of them (a full store, a restart). */
export class EvictTicketsCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly serverId: ServerId,
    readonly pick: number | 'all',
  ) {}
  check = (m: Readonly<Model>): boolean => m.tickets.some((t) => t.serverId === this.serverId);
  async run(m: Model, w: World): Promise<void> {
    const store = w.stores[this.serverId].inner;
    const mine = m.tickets.flatMap((t, i) => (t.serverId === this.serverId ? [i] : []));
    const chosen = this.pick === 'all' ? mine : [mine[this.pick % mine.length] as number];
    if (this.pick === 'all') store.clear();
    for (const i of chosen) {
      const entry = w.wallet[i];
      const t = m.tickets[i];
      if (entry && this.pick !== 'all') store.evict(entry.session.ticket);
      if (t) t.status = 'used';
    }
    repredict(m, w);
    afterStep(m, w, this.toString());
  }
  toString = (): string => `EvictTickets(${this.serverId}, ${this.pick})`;
}
