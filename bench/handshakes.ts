/**
 * Handshakes per second over loopback TCP, full or resumed, one connection
 * after another; and the CPU time (user + system, client and server together:
 * both run in this process) each handshake costs. Every connection sends one
 * byte and waits for the echo, so the tickets of the handshake have arrived
 * before it closes.
 */
import { echo, type Identity, type Side } from './sides.js';

export interface HandshakeFigures {
  perSecond: number;
  /** CPU microseconds per handshake, client and server together. */
  cpuMicros: number;
}

/** One connection: resolves with the newest session to reuse and whether this one resumed. */
function oneConnection(
  side: Side,
  id: Identity,
  port: number,
  session: Buffer | undefined,
): Promise<{ session: Buffer | undefined; reused: boolean }> {
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    const c = side.connect(id, port, session, () => c.write('x'));
    c.on('session', (s: Buffer) => (latest = s));
    c.on('error', reject);
    c.once('data', () => {
      const reused = c.isSessionReused();
      c.end();
      c.once('close', () => resolve({ session: latest, reused }));
    });
  });
}

/** Connections made before a measurement starts (see measureHandshakes). */
const WARM_UP = 60;

export async function measureHandshakes(side: Side, id: Identity, resumed: boolean, n: number): Promise<HandshakeFigures> {
  const server = await side.listen(id, echo);
  try {
    // Warm-up (JIT, certificate caches of both stacks), and a first ticket. Enough connections for
    // V8 to optimise the JavaScript again: a figure measured after the heap figure's forced full
    // collections (which discard compiled code that sat idle meanwhile) would otherwise count
    // tlschart's recompilation, which a server that keeps running never pays.
    let { session } = await oneConnection(side, id, server.port, undefined);
    for (let i = 0; i < WARM_UP; i++)
      session = (await oneConnection(side, id, server.port, resumed ? session : undefined)).session ?? session;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const r = await oneConnection(side, id, server.port, resumed ? session : undefined);
      if (resumed && !r.reused) throw new Error(`${side.name}: connection ${i} did not resume`);
      if (!resumed && r.reused) throw new Error(`${side.name}: connection ${i} resumed without being offered a session`);
      session = r.session ?? session;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    return { perSecond: n / seconds, cpuMicros: (used.user + used.system) / n };
  } finally {
    await server.close();
  }
}
