import type fc from 'fast-check';
import type { ClientVariant, ServerVariant } from '../../support/variants.js';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, openSession } from './common.js';

/**
 * A peer that breaks the protocol in one precise way (flipped Finished or
 * CertificateVerify, a scheme that does not fit its key, skipped messages —
 * the SKIP/SMACK family, early_data accepted): the other side must refuse
 * with the alert of the table.
 */
export class MisbehavingPeerCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly variant: { side: 'client'; kind: ClientVariant } | { side: 'server'; kind: ServerVariant },
    readonly pick: number,
  ) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    const ticket = this.pick >= 0 && m.tickets.length > 0 ? this.pick % m.tickets.length : undefined;
    const t = ticket === undefined ? undefined : m.tickets[ticket];
    await openSession(m, w, {
      serverId: t?.serverId ?? 'A',
      sni: t?.sni ?? 'localhost',
      ticket,
      ...(this.variant.side === 'client' ? { clientVariant: this.variant.kind } : { serverVariant: this.variant.kind }),
    });
    // A misbehaving peer's session is played to the end here; the wire stays untouched.
    await w.current?.deliverAll();
    afterStep(m, w, this.toString());
  }
  toString = (): string => `MisbehavingPeer(${this.variant.side} ${this.variant.kind}${this.pick >= 0 ? `, ticket #${this.pick}` : ''})`;
}
