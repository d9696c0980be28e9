import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { afterStep, PropertyViolation } from './common.js';

/**
 * Honest: deliver everything in flight until both sides are quiet. For an
 * untouched session the outcome must be the model's prediction: connected
 * (resumed or not, with the suite and the number of tickets predicted) or
 * the one failure the configurations call for.
 */
export class CompleteHandshakeCommand implements fc.AsyncCommand<Model, World> {
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (!s) return;
    await s.deliverAll();
    const p = m.session?.prediction;
    const problems: string[] = [];
    if (p && m.session && m.session.closedBy.length === 0) {
      const hrr = s.serverTrace.some(
        (e) => e.kind === 'message' && e.direction === 'out' && e.name === 'server_hello' && e.raw.length > 0 && isRetry(e.raw),
      );
      if (p.ok) {
        if (!s.bothConnected)
          problems.push(
            `predicted a connection, got client ${s.client.state} (${s.client.error?.message ?? ''}), server ${s.server.state} (${s.server.error?.message ?? ''})`,
          );
        else {
          if (p.resumed !== undefined && s.server.context.resumed !== p.resumed)
            problems.push(`predicted resumed=${p.resumed}, the server says ${s.server.context.resumed}`);
          if (s.client.context.resumed !== s.server.context.resumed) problems.push('client and server disagree on resumption');
          if (s.client.context.suite?.code !== p.suite)
            problems.push(`predicted suite 0x${p.suite.toString(16)}, got ${s.client.info?.suite}`);
          if (s.tickets.length !== p.tickets) problems.push(`predicted ${p.tickets} tickets, the client got ${s.tickets.length}`);
          if (hrr !== p.helloRetry) problems.push(`predicted HelloRetryRequest=${p.helloRetry}, got ${hrr}`);
          m.session.connected = true;
        }
      } else {
        const conn = p.side === 'client' ? s.client : s.server;
        if (conn.state !== 'failed' || conn.error?.alert !== p.alert)
          problems.push(`predicted ${p.side} to fail with ${p.alert}, got ${conn.state} ${conn.error?.alert ?? ''}`);
      }
    }
    if (problems.length > 0) throw new PropertyViolation(`${problems.join('; ')}\n  after: ${[...w.log, this.toString()].join(' → ')}`);
    afterStep(m, w, this.toString());
  }
  toString = (): string => 'CompleteHandshake';
}

const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
function isRetry(raw: Uint8Array): boolean {
  // ServerHello.random sits after the 4-byte header and the 2-byte legacy_version.
  return Buffer.from(raw.subarray(6, 38)).toString('hex') === HRR_RANDOM;
}
