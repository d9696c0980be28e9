import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, PropertyViolation } from './common.js';

/**
 * Honest: one side sends close_notify (RFC 8446 §6.1). The peer learns that
 * no more data will come and may still write; once both sides have sent
 * theirs, both are closed.
 */
export class CloseCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly side: 'client' | 'server') {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined && !m.session.closedBy.includes(this.side);
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (!s) return;
    const [me, peer] = this.side === 'client' ? [s.client, s.server] : [s.server, s.client];
    await me.close();
    await s.deliverAll();
    if (m.session) {
      m.session.closedBy.push(this.side);
      if (m.session.connected && m.session.prediction) {
        const both = m.session.closedBy.length === 2;
        const problems: string[] = [];
        if (!me.context.closeNotifySent) problems.push(`the ${this.side} did not send close_notify`);
        if (both && (s.client.state !== 'closed' || s.server.state !== 'closed'))
          problems.push(`both sides sent close_notify but client is ${s.client.state}, server ${s.server.state}`);
        if (!both && (peer.state === 'failed' || !peer.context.closeNotifyReceived))
          problems.push(`the peer did not take the ${this.side}'s close_notify (${peer.state})`);
        if (problems.length > 0) throw new PropertyViolation(`${problems.join('; ')}\n  after: ${[...w.log, this.toString()].join(' → ')}`);
      }
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `Close(${this.side})`;
}
