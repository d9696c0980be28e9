import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession } from './common.js';

/**
 * Honest: reconnect offering one of the tickets the client holds — maybe to
 * the server that issued it, maybe to the other one, maybe under another
 * name; the model predicts whether it resumes (property 7).
 */
export class ReconnectWithTicketCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly pick: number,
    /** Where to: the issuing server under the issuing name, or anywhere. */
    readonly to: 'issuer' | { serverId: ServerId; sni: string },
  ) {}
  check = (m: Readonly<Model>): boolean => m.tickets.length > 0;
  async run(m: Model, w: World): Promise<void> {
    const ticket = this.pick % m.tickets.length;
    const t = m.tickets[ticket];
    const to = this.to === 'issuer' ? { serverId: t?.serverId ?? 'A', sni: t?.sni ?? 'localhost' } : this.to;
    await openSession(m, w, { ...to, ticket });
    afterStep(m, w, this.toString());
  }
  toString = (): string =>
    `ReconnectWithTicket(#${this.pick}, ${this.to === 'issuer' ? 'its issuer' : `${this.to.serverId}, ${this.to.sni}`})`;
}
