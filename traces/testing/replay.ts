/**
 * Replay by bytes: fresh connections, built as the scenario builds them, are
 * fed only the inbound bytes a trace recorded (and the local calls it shows,
 * such as close), and what they send is compared with the recorded outbound
 * records. Each side has its own seeded environment, so each side replays
 * alone, without its peer.
 */
import { concat, fromHex, toHex } from '../../crypto/bytes.js';
import type { CryptoProvider } from '../../crypto/provider.js';
import { ClientConnection, ServerConnection } from '../../engine/connection.js';
import type { Role, SideTrace, Trace } from '../format.js';
import { beforeHandshake, freshState, type Scenario } from './scenarios.js';

export interface SideReplay {
  handshake: number;
  role: Role;
  /** Outbound records as recorded, hex. */
  recorded: string[];
  /** What the fresh connection sent, hex, one entry per output. */
  replayed: string[];
  finalState: { recorded: string; replayed: string };
}

async function feed(conn: ClientConnection | ServerConnection, side: SideTrace): Promise<void> {
  const local = new Set<number>();
  for (const step of side.steps) {
    if (step.direction === 'in') {
      if (step.records.length > 0) await conn.receive(concat(...step.records.map((r) => fromHex(r.hex))));
      continue;
    }
    const ev = step.event;
    if (ev?.type === 'app.close' && !local.has(ev.id)) {
      local.add(ev.id);
      await conn.close();
    }
  }
  await conn.settled();
}

export async function replayFromInbound(scenario: Scenario, trace: Trace, crypto?: CryptoProvider): Promise<SideReplay[]> {
  const s = freshState(scenario, undefined, crypto);
  const out: SideReplay[] = [];
  for (const [i, spec] of scenario.handshakes.entries()) {
    beforeHandshake(s, i);
    const hs = trace.handshakes[i];
    if (!hs) throw new Error(`the trace has no handshake ${i}`);
    for (const role of ['client', 'server'] as const) {
      const side = hs.sides.find((x) => x.role === role);
      if (!side) throw new Error(`handshake ${i} has no ${role}`);
      const conn = role === 'client' ? new ClientConnection(spec.client(s)) : new ServerConnection(spec.server(s));
      const sent: string[] = [];
      conn.on('output', (b) => sent.push(toHex(b)));
      conn.on('error', () => undefined);
      if (conn instanceof ClientConnection) conn.on('session', (x) => s.sessions.push(x));
      await feed(conn, side);
      out.push({
        handshake: i,
        role,
        recorded: side.steps.filter((x) => x.direction === 'out').flatMap((x) => x.records.map((r) => r.hex)),
        replayed: sent,
        finalState: { recorded: side.outcome.state, replayed: conn.state },
      });
    }
  }
  return out;
}
