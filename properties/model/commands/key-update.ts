import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, PropertyViolation } from './common.js';

/** Honest: one side updates its keys (RFC 8446 §4.6.3), maybe asking the other to update too; data still flows both ways. */
export class KeyUpdateCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly side: 'client' | 'server',
    readonly request: boolean,
  ) {}
  check = (m: Readonly<Model>): boolean => m.session?.connected === true && m.session.closedBy.length === 0;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (!s?.bothConnected || s.client.context.closeNotifySent || s.server.context.closeNotifySent) return afterStep(m, w, this.toString());
    const [me, peer] = this.side === 'client' ? [s.client, s.server] : [s.server, s.client];
    const before = { myWrite: me.context.writeGeneration, peerRead: peer.context.readGeneration, peerWrite: peer.context.writeGeneration };
    await me.keyUpdate(this.request);
    await s.deliverAll();
    const problems: string[] = [];
    if (m.session?.prediction) {
      if (me.context.writeGeneration !== before.myWrite + 1) problems.push('the sender did not move to the next write generation');
      if (peer.context.readGeneration !== before.peerRead + 1) problems.push('the receiver did not move to the next read generation');
      if (peer.context.writeGeneration !== before.peerWrite + (this.request ? 1 : 0))
        problems.push('update_requested was not answered exactly once');
      const probe = new TextEncoder().encode(`after KeyUpdate ${w.log.length}`);
      const got = s.data[this.side === 'client' ? 'server' : 'client'].length;
      await me.write(probe);
      await s.deliverAll();
      const arrived = s.data[this.side === 'client' ? 'server' : 'client'].slice(got);
      if (Buffer.concat(arrived.map((d) => d.bytes)).toString() !== Buffer.from(probe).toString())
        problems.push('data written after the KeyUpdate did not arrive intact');
    }
    if (problems.length > 0) throw new PropertyViolation(`${problems.join('; ')}\n  after: ${[...w.log, this.toString()].join(' → ')}`);
    afterStep(m, w, this.toString());
  }
  toString = (): string => `KeyUpdate(${this.side}${this.request ? ', update_requested' : ''})`;
}
