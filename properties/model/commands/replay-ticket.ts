import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession } from './common.js';

/** Attacker (or careless client): offer again a ticket its server already took; it must not resume (at most once). */
export class ReplayTicketCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly pick: number,
    readonly serverId: ServerId,
  ) {}
  check = (m: Readonly<Model>): boolean => m.tickets.some((t) => t.status === 'used');
  async run(m: Model, w: World): Promise<void> {
    const used = m.tickets.flatMap((t, i) => (t.status === 'used' ? [i] : []));
    const index = used[this.pick % used.length] as number;
    const t = m.tickets[index];
    await openSession(m, w, { serverId: t?.serverId ?? this.serverId, sni: t?.sni ?? 'localhost', ticket: index });
    afterStep(m, w, this.toString());
  }
  toString = (): string => `ReplayTicket(#${this.pick})`;
}
