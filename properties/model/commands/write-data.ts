import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, PropertyViolation } from './common.js';

/** Honest: one side writes application data; it arrives intact at the other, after the handshake only. */
export class WriteDataCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly side: 'client' | 'server',
    readonly size: number,
  ) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined && !m.session.closedBy.includes(this.side);
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    const conn = s && (this.side === 'client' ? s.client : s.server);
    // Writing is only possible on a live connection that has not sent close_notify (before the handshake ends the engine queues it).
    if (!s || !conn || conn.state === 'failed' || conn.state === 'closed' || conn.context.closeNotifySent)
      return afterStep(m, w, this.toString());
    const payload = new Uint8Array(this.size).map((_, i) => (i * 31 + this.size) & 0xff);
    const peer = this.side === 'client' ? 'server' : 'client';
    const got = s.data[peer].length;
    await conn.write(payload);
    await s.deliverAll();
    if (m.session?.prediction?.ok && s.bothConnected && !(this.side === 'client' ? s.server : s.client).context.closeNotifyReceived) {
      const arrived = Buffer.concat(s.data[peer].slice(got).map((d) => d.bytes));
      if (!arrived.equals(Buffer.from(payload)))
        throw new PropertyViolation(
          `${this.size} bytes written by the ${this.side} arrived as ${arrived.length}\n  after: ${[...w.log, this.toString()].join(' → ')}`,
        );
    }
    afterStep(m, w, this.toString());
  }
  toString = (): string => `WriteData(${this.side}, ${this.size} bytes)`;
}
