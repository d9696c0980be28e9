/**
 * Level (c): real sockets on loopback, fewer runs. A tlschart server
 * (net/ `createServer`) and client (net/ `connect`) talk through a
 * man-in-the-middle TCP proxy that may flip a bit or cut bytes out of either
 * stream at a generated offset. TCP chunks the streams as it likes, so the
 * attacker works on stream offsets and finds the record a byte belongs to by
 * following the record headers. After each connection, the session
 * properties (model/invariants.ts) are checked on both engines, and nothing
 * may hang: every connection ends (connected, failed or closed) in bounded
 * time.
 */
import { type AddressInfo, type Server as NetServer, connect as netConnect, createServer as netServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../crypto/bytes.js';
import { FinishedVerified } from '../crypto/witness.js';
import { ClientConnection, ServerConnection, type TraceEntry } from '../engine/connection.js';
import { connect, createServer, type Server, type TLSSocket } from '../net/index.js';
import type { AlertName } from '../wire/alerts.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import { checkSession } from './model/invariants.js';
import type { Session } from './model/world.js';
import { fcParameters, timeoutFor } from './settings.js';
import { type AttackKind, allowedAlerts } from './support/alerts.js';
import { type Identities, identities } from './support/identities.js';

type Dir = 'toServer' | 'toClient';
type Attack =
  | { kind: 'none' }
  | { kind: 'flip'; dir: Dir; offset: number; bit: number }
  | { kind: 'cut'; dir: Dir; offset: number; length: number };

interface Observed {
  conn: TLSSocket['engine'];
  trace: TraceEntry[];
  data: Session['data']['client'];
}

/** Follows record boundaries in one direction of the stream, to classify the byte an attack hits. */
class RecordFollower {
  private seen = 0;
  private next = 0; // offset of the next record header
  private header: number[] = [];
  private type = 0;
  /** [start, end, type] of each record whose header was seen. */
  readonly records: Array<[number, number, number]> = [];

  feed(chunk: Uint8Array): void {
    for (const b of chunk) {
      const at = this.seen++;
      if (at === this.next || (this.header.length > 0 && this.header.length < 5)) {
        this.header.push(b);
        if (this.header.length === 1) this.type = b;
        if (this.header.length === 5) {
          const len = ((this.header[3] as number) << 8) | (this.header[4] as number);
          this.records.push([this.next, this.next + 5 + len, this.type]);
          this.next = this.next + 5 + len;
          this.header = [];
        }
      }
    }
  }

  kindAt(offset: number): AttackKind {
    const r = this.records.find(([s, e]) => offset >= s && offset < e);
    return r && r[2] === 23 ? 'flipBitEncrypted' : 'flipBitPlaintext';
  }
}

/** A TCP proxy that forwards both ways and applies one attack. */
async function mitm(
  targetPort: number,
  attack: Attack,
): Promise<{ port: number; close: () => Promise<void>; applied: AttackKind | undefined }> {
  const state: { applied: AttackKind | undefined } = { applied: undefined };
  const sockets = new Set<Socket>();
  const server: NetServer = netServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const counters: Record<Dir, number> = { toServer: 0, toClient: 0 };
    const followers: Record<Dir, RecordFollower> = { toServer: new RecordFollower(), toClient: new RecordFollower() };
    const forward = (dir: Dir, to: Socket) => (chunk: Buffer) => {
      const start = counters[dir];
      counters[dir] += chunk.length;
      let bytes = new Uint8Array(chunk);
      if (attack.kind !== 'none' && attack.dir === dir) {
        followers[dir].feed(bytes);
        if (attack.kind === 'flip' && attack.offset >= start && attack.offset < start + bytes.length) {
          bytes = bytes.slice();
          bytes[attack.offset - start] = (bytes[attack.offset - start] as number) ^ (1 << attack.bit);
          state.applied = followers[dir].kindAt(attack.offset);
        }
        if (attack.kind === 'cut') {
          const from = Math.max(attack.offset, start) - start;
          const to2 = Math.min(attack.offset + attack.length, start + bytes.length) - start;
          if (from < to2) {
            bytes = Uint8Array.from([...bytes.subarray(0, from), ...bytes.subarray(to2)]);
            state.applied = 'truncate';
          }
        }
      }
      if (bytes.length > 0 && !to.destroyed) to.write(bytes);
    };
    client.on('data', forward('toServer', upstream));
    upstream.on('data', forward('toClient', client));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    get applied() {
      return state.applied;
    },
  };
}

let ids: Identities;
let server: Server;
let serverPort: number;
/** Server sockets by the order they arrived, with what was observed on them. */
const serverSide = new Map<TLSSocket, Observed>();

beforeAll(async () => {
  ids = await identities();
  server = createServer({
    key: ids.server.keyPem,
    cert: ids.server.certPem,
    ticketsPerHandshake: 2,
    handshakeTimeout: 1500,
    trace: (entry, socket) => {
      let o = serverSide.get(socket);
      if (!o) {
        o = { conn: socket.engine, trace: [], data: [] };
        serverSide.set(socket, o);
      }
      o.trace.push(entry);
    },
  });
  server.on('tlsClientError', () => undefined);
  server.on('secureConnection', (socket: TLSSocket) => {
    const o = serverSide.get(socket);
    socket.on('data', (d: Buffer) => {
      const conn = socket.engine;
      o?.data.push({
        bytes: new Uint8Array(d),
        state: conn?.state ?? '?',
        witness: conn instanceof ServerConnection && conn.context.clientFinished instanceof FinishedVerified,
      });
      if (!socket.writableEnded) socket.write(d); // echo
    });
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  serverPort = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Outcome {
  connected: boolean;
  resumed: boolean;
  sessions: Buffer[];
  echoed: string;
  error: { alert?: string } | undefined;
  observed: Observed;
  serverObserved: Observed | undefined;
}

/** One client connection through the proxy; resolves when it has ended one way or another. */
async function connectOnce(
  attack: Attack,
  session: Buffer | undefined,
  payload: string,
  crypto: 'node' | 'noble' = 'node',
): Promise<Outcome & { applied: AttackKind | undefined }> {
  const proxy = await mitm(serverPort, attack);
  const before = new Set(serverSide.keys());
  const observed: Observed = { conn: undefined, trace: [], data: [] };
  const sessions: Buffer[] = [];
  let echoed = '';
  const socket = connect({
    host: '127.0.0.1',
    port: proxy.port,
    servername: 'localhost',
    ca: ids.server.certPem,
    crypto,
    ...(session ? { session } : {}),
    trace: (e) => observed.trace.push(e),
  });
  observed.conn = socket.engine;
  socket.on('session', (s: Buffer) => sessions.push(s));
  const result = await new Promise<Pick<Outcome, 'connected' | 'resumed' | 'error'>>((resolve) => {
    let connected = false;
    const timer = setTimeout(() => {
      // Still open after 3 s. After the handshake that is the attacker withholding bytes (a TCP
      // stall no TLS implementation can tell from a slow network); during the handshake the
      // server's handshake timeout (1.5 s) must have ended it.
      const serverSockets = [...serverSide.keys()].filter((k) => !before.has(k));
      const stuck = serverSockets.filter((k) => !k.secured && !k.destroyed);
      const why =
        attack.kind === 'none' ? 'an untouched connection' : stuck.length > 0 ? 'a handshake the server did not time out' : undefined;
      resolve({
        connected,
        resumed: socket.isSessionReused(),
        error: why ? { alert: `HANG: ${why} was still open after 3 s` } : { alert: 'stalled after the handshake' },
      });
    }, 3000);
    socket.on('secureConnect', () => {
      connected = true;
      socket.write(payload);
    });
    socket.on('data', (d: Buffer) => {
      const conn = socket.engine;
      observed.data.push({
        bytes: new Uint8Array(d),
        state: conn?.state ?? '?',
        witness: conn instanceof ClientConnection && conn.context.serverFinished instanceof FinishedVerified,
      });
      echoed += d.toString();
      if (echoed.length >= payload.length) socket.end();
    });
    socket.on('error', (e: Error & { alert?: string }) => {
      clearTimeout(timer);
      resolve({ connected, resumed: socket.isSessionReused(), error: { ...(e.alert ? { alert: e.alert } : {}) } });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ connected, resumed: socket.isSessionReused(), error: undefined });
    });
  });
  // Give the server the time to take the last records, then close the proxy.
  await new Promise((r) => setTimeout(r, 20));
  socket.destroy();
  await proxy.close();
  const serverObserved = [...serverSide.entries()].find(([k]) => !before.has(k))?.[1];
  return { ...result, sessions, echoed, observed, serverObserved, applied: proxy.applied };
}

/** The session properties on the two engines of one socket connection. */
function violations(o: Outcome, attacks: AttackKind[]): string[] {
  const client = o.observed.conn;
  const server = o.serverObserved?.conn;
  if (!client || !server) return o.error?.alert?.startsWith('HANG') ? [o.error.alert] : [];
  const s = {
    client,
    server,
    clientTrace: o.observed.trace,
    serverTrace: o.serverObserved?.trace ?? [],
    data: { client: o.observed.data, server: o.serverObserved?.data ?? [] },
    attacks: new Set(attacks),
    applied: [],
    exceptions: o.error?.alert?.startsWith('HANG') ? [o.error.alert] : [],
    tickets: [],
    earlyMarker: undefined,
    options: { clientVariant: 'honest' },
  } as unknown as Session;
  return checkSession(s, { predicted: [], quiet: true });
}

/** The (EC)DHE public keys a side sent in its hello(s), hex. */
function shares(trace: readonly TraceEntry[], name: 'client_hello' | 'server_hello'): string[] {
  const out: string[] = [];
  for (const e of trace) {
    if (e.kind !== 'message' || e.direction !== 'out' || e.name !== name) continue;
    const d = decodeHandshake(e.raw);
    if (!d.ok) continue;
    const m = d.value;
    if (m.type === 'client_hello')
      for (const k of findExtension(m.extensions, 'key_share_client')?.shares ?? []) out.push(toHex(k.keyExchange));
    if (m.type === 'server_hello') {
      const k = findExtension(m.extensions, 'key_share_server');
      if (k) out.push(toHex(k.share.keyExchange));
    }
  }
  return out;
}

const arbAttack: fc.Arbitrary<Attack> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      dir: fc.constantFrom<Dir>('toServer', 'toClient'),
      offset: fc.nat(2500),
      bit: fc.nat(7),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cut' as const),
      dir: fc.constantFrom<Dir>('toServer', 'toClient'),
      offset: fc.nat(2500),
      length: fc.integer({ min: 1, max: 300 }),
    }),
  },
);

describe('tlschart client and server over loopback sockets, through an attacker', () => {
  it(
    'connect, resume with a ticket, and under attack refuse with the table alert — never hanging (client on either provider, server on node:crypto)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          arbAttack,
          fc.boolean(),
          fc.string({ minLength: 1, maxLength: 40 }),
          fc.constantFrom('node' as const, 'noble' as const),
          async (attack, resume, payload, crypto) => {
            let ticket: Buffer | undefined;
            let first: Awaited<ReturnType<typeof connectOnce>> | undefined;
            if (resume) {
              first = await connectOnce({ kind: 'none' }, undefined, 'first', crypto);
              expect(first.connected && first.echoed === 'first', 'the honest first connection').toBe(true);
              expect(violations(first, [])).toEqual([]);
              ticket = first.sessions[0];
              expect(ticket).toBeDefined();
            }
            const o = await connectOnce(attack, ticket, payload, crypto);
            if (first && o.resumed) {
              // Property 2: the resumption used fresh (EC)DHE shares on both sides.
              expect(shares(o.observed.trace, 'client_hello')).not.toEqual(shares(first.observed.trace, 'client_hello'));
              expect(shares(o.serverObserved?.trace ?? [], 'server_hello')).not.toEqual(
                shares(first.serverObserved?.trace ?? [], 'server_hello'),
              );
              expect(shares(o.serverObserved?.trace ?? [], 'server_hello')).not.toEqual([]);
            }
            const attacks = o.applied ? [o.applied] : [];
            expect(violations(o, attacks)).toEqual([]);
            if (!o.applied) {
              // Untouched: it connects, echoes, hands out tickets and resumes when it had one.
              expect(o.connected).toBe(true);
              expect(o.echoed).toBe(payload);
              expect(o.resumed).toBe(resume);
              expect(o.sessions.length).toBe(2);
            } else if (o.error?.alert !== undefined && !o.error.alert.startsWith('stalled')) {
              // A refusal the client saw: an alert the table allows for this attack (or the server's, relayed).
              const allowed = allowedAlerts(attacks);
              const sent = o.observed.conn?.error;
              if (sent && !sent.remote) expect([...allowed]).toContain(sent.alert as AlertName);
            }
          },
        ),
        fcParameters(6, 80, {
          examples: [
            [{ kind: 'none' }, true, 'resumed', 'node'],
            [{ kind: 'none' }, true, 'resumed', 'noble'],
            [{ kind: 'flip', dir: 'toClient', offset: 200, bit: 3 }, false, 'flipped', 'node'],
            [{ kind: 'cut', dir: 'toServer', offset: 10, length: 50 }, true, 'cut', 'noble'],
            [{ kind: 'cut', dir: 'toClient', offset: 225, length: 177 }, true, 'stalled after the handshake', 'node'],
          ],
        }),
      );
    },
    timeoutFor(9, 80, 4000),
  );
});
