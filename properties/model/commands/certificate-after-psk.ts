import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, openSession } from './common.js';

/** A server that sends a Certificate after a PSK ServerHello (or a second one): the client answers unexpected_message. */
export class CertificateAfterPskCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly pick: number) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    const ticket = m.tickets.length > 0 ? this.pick % m.tickets.length : undefined;
    const t = ticket === undefined ? undefined : m.tickets[ticket];
    await openSession(m, w, { serverId: t?.serverId ?? 'A', sni: t?.sni ?? 'localhost', ticket, serverVariant: 'certificateAfterPsk' });
    // A misbehaving peer's session is played to the end here; the wire stays untouched.
    await w.current?.deliverAll();
    afterStep(m, w, this.toString());
  }
  toString = (): string => `CertificateAfterPsk(ticket #${this.pick})`;
}
