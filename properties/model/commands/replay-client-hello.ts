import type fc from 'fast-check';
import { splitRecords } from '../../support/records.js';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession } from './common.js';

/**
 * Attacker: replay the ClientHello of an earlier session (with its ticket
 * and binder) to a server. The server may answer, but it can never reach
 * connected (nobody can compute the client Finished) and the ticket, already
 * taken, never resumes a second time.
 */
export class ReplayClientHelloCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly fromSession: number,
    readonly serverId: ServerId,
  ) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const earlier = w.sessions.filter((s) => s.sent.some((c) => c.dir === 'toServer' && splitRecords(c.bytes).records[0]?.body[0] === 1));
    const from = earlier.length > 0 ? earlier[this.fromSession % earlier.length] : undefined;
    const hello = from?.sent.find((c) => c.dir === 'toServer' && splitRecords(c.bytes).records[0]?.body[0] === 1);
    if (from && hello) {
      await openSession(m, w, { serverId: this.serverId, sni: from.options.sni, replacedClientHello: hello.bytes.slice() });
      const s = w.current;
      // The server cannot tell a replay from a new hello; it must just never connect.
      if (s) s.applied.push({ attack: 'replayClientHello', victim: 'server', detect: false });
      if (m.session) m.session.prediction = undefined;
    }
    // A misbehaving peer's session is played to the end here; the wire stays untouched.
    await w.current?.deliverAll();
    afterStep(m, w, this.toString());
  }
  toString = (): string => `ReplayClientHello(session #${this.fromSession} → ${this.serverId})`;
}
