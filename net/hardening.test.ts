/**
 * The server under load and abuse, on loopback with small numbers: admission
 * control sheds what it cannot serve, handshakes of peers that are gone are
 * abandoned before any public-key work, timeouts end connections cleanly, and
 * the protocol limits are options of both ends.
 */
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../crypto/noble.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { defaultClientConfig, parseLeafOnly } from '../engine/config.js';
import { ClientConnection, type TraceEntry } from '../engine/connection.js';
import { seededEnvironment, systemEnvironment } from '../engine/env.js';
import { clientFlightProbe, insertBefore } from '../engine/testing/probes.js';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import type { ServerSessionState, TicketStore } from '../tickets/types.js';
import { decodeHandshake } from '../wire/handshake.js';
import { connect } from './connect.js';
import type { RefusedConnection } from './server.js';
import type { TLSSocket } from './socket.js';
import { loopback, nextClientError, nextError, sessions, startServer } from './testing/fixtures.js';

const fx = loopback();
const { serve, dial, rawServer } = fx;

function raw(port: number): Socket {
  const s = netConnect(port, '127.0.0.1');
  s.on('error', () => undefined);
  return fx.track(s);
}

/** The ClientHello flight a real tlschart client sends first. */
async function clientHelloBytes(): Promise<Buffer> {
  const c = new ClientConnection({ ...defaultClientConfig({ serverName: 'localhost' }), env: seededEnvironment(`hello-${Math.random()}`) });
  return Buffer.from(await new Promise<Uint8Array>((resolve) => c.once('output', resolve)));
}

/** Wait (without a deadline of its own: vitest's applies) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * The system environment on the real @noble provider, with key exchanges counted: the server's
 * first public-key step for a ClientHello (its signature comes right after, in the same action;
 * engine/abandon.test.ts counts both).
 */
function countingEnv(): { env: () => ReturnType<typeof systemEnvironment>; counts: { acceptShare: number } } {
  const counts = { acceptShare: 0 };
  const provider: CryptoProvider = {
    ...nobleProvider,
    name: 'counting',
    acceptShare: (...args) => {
      counts.acceptShare++;
      return nobleProvider.acceptShare(...args);
    },
  };
  return { env: () => systemEnvironment(provider), counts };
}

/** A memory store whose lookups can be held open, to keep a handshake in the middle of its ClientHello. */
class HoldingStore implements TicketStore {
  readonly inner = new MemoryTicketStore();
  #held: Array<() => void> | undefined;
  hold(): void {
    this.#held = [];
  }
  letGo(): void {
    const waiting = this.#held ?? [];
    this.#held = undefined;
    for (const go of waiting) go();
  }
  put(t: Uint8Array, s: ServerSessionState): void {
    this.inner.put(t, s);
  }
  get(t: Uint8Array): Promise<ServerSessionState | undefined> | ServerSessionState | undefined {
    const held = this.#held;
    if (!held) return this.inner.get(t);
    return new Promise((resolve) => held.push(() => resolve(this.inner.get(t))));
  }
  take(t: Uint8Array): Promise<ServerSessionState | undefined> | ServerSessionState | undefined {
    const held = this.#held;
    if (!held) return this.inner.take(t);
    return new Promise((resolve) => held.push(() => resolve(this.inner.take(t))));
  }
}

describe('admission control: what the server cannot serve it refuses at once', () => {
  it('works on maxHandshakes ClientHellos, queues handshakeQueue more, and refuses the next connection at accept', async () => {
    const store = new HoldingStore();
    const r = await serve({ ticketStore: store, maxHandshakes: 1, handshakeQueue: 1 });
    const refused: RefusedConnection[] = [];
    r.server.on('refused', (info: RefusedConnection) => refused.push(info));

    const first = dial(r.port);
    const [session] = (await sessions(first).first) as [Buffer];
    // B offers a ticket: its ClientHello holds the only slot while the store answers.
    store.hold();
    const b = dial(r.port, { session });
    await until(() => r.server.stats().running === 1);
    // C waits in the queue.
    const c = dial(r.port);
    await until(() => r.server.stats().waiting === 1);
    // D finds every slot taken and the queue full: closed before anything is spent on it.
    const d = dial(r.port);
    const dError = await nextError(d);
    expect(dError.reason ?? dError.code).toMatch(/ConnectionClosedDuringHandshake|ECONNRESET/);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ stage: 'accept', running: 1, waiting: 1, remoteAddress: '127.0.0.1' });
    expect(r.server.stats()).toMatchObject({ refused: 1, running: 1, waiting: 1 });

    store.letGo();
    await Promise.all([once(b, 'secureConnect'), once(c, 'secureConnect')]);
    expect(b.isSessionReused()).toBe(true);
    expect(c.isSessionReused()).toBe(false);
    expect(r.server.stats()).toMatchObject({ running: 0, waiting: 0, admitted: 3, refused: 1 });
  });

  it('refuses a ClientHello that arrives when every slot is taken and the queue is full, closing without a reply', async () => {
    const store = new HoldingStore();
    const r = await serve({ ticketStore: store, maxHandshakes: 1, handshakeQueue: 0 });
    const refused: RefusedConnection[] = [];
    r.server.on('refused', (info: RefusedConnection) => refused.push(info));
    const [session] = (await sessions(dial(r.port)).first) as [Buffer];
    // E connects while the server is idle (accepted), then sends its ClientHello once the slot is taken.
    const e = raw(r.port);
    await once(e, 'connect');
    await until(() => r.server.stats().accepted === 2);
    store.hold();
    const b = dial(r.port, { session });
    await until(() => r.server.stats().running === 1);
    const received: Buffer[] = [];
    e.on('data', (d: Buffer) => received.push(d));
    e.write(await clientHelloBytes());
    await once(e, 'close');
    expect(Buffer.concat(received)).toHaveLength(0);
    expect(refused.map((x) => x.stage)).toEqual(['clientHello']);
    store.letGo();
    await once(b, 'secureConnect');
  });

  it('serves every client of a burst larger than its slots and queue that retries after a refusal', async () => {
    const r = await serve({ maxHandshakes: 1, handshakeQueue: 1 });
    const attempt = async (): Promise<boolean> => {
      const s = dial(r.port);
      return new Promise<boolean>((resolve) => {
        s.once('secureConnect', () => resolve(true));
        s.once('error', () => resolve(false));
      });
    };
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => {
        let tries = 1;
        while (!(await attempt())) {
          tries++;
          await new Promise((res) => setTimeout(res, 20 * tries));
        }
        return tries;
      }),
    );
    expect(results).toHaveLength(6);
    const stats = r.server.stats();
    expect(stats.admitted).toBe(6);
    expect(stats.refused).toBe(results.reduce((a, b) => a + b, 0) - 6);
  });
});

describe('a handshake whose peer is gone is abandoned before any public-key work', () => {
  it('answers a ClientHello with its key exchange while the client is there', async () => {
    const { env, counts } = countingEnv();
    const r = await serve({ env });
    const s = raw(r.port);
    await once(s, 'connect');
    s.write(await clientHelloBytes());
    await once(s, 'data');
    expect(counts.acceptShare).toBe(1);
  });

  it('computes no key exchange for a client that sent its ClientHello and closed', async () => {
    const { env, counts } = countingEnv();
    const r = await serve({ env });
    const err = nextClientError(r.server);
    const hello = await clientHelloBytes();
    const s = raw(r.port);
    await once(s, 'connect');
    s.end(hello);
    expect((await err).reason).toBe('ConnectionClosedDuringHandshake');
    await new Promise((res) => setTimeout(res, 50));
    expect(counts).toEqual({ acceptShare: 0 });
  });

  it('computes nothing for a client that sent its ClientHello and reset the connection', async () => {
    const { env, counts } = countingEnv();
    const r = await serve({ env });
    const err = nextClientError(r.server);
    const s = raw(r.port);
    await once(s, 'connect');
    s.write(await clientHelloBytes());
    s.resetAndDestroy();
    const e = (await err) as Error & { reason?: string; code?: string };
    expect(e.reason ?? e.code).toMatch(/ConnectionClosedDuringHandshake|ECONNRESET/);
    await new Promise((res) => setTimeout(res, 50));
    expect(counts).toEqual({ acceptShare: 0 });
  });

  it('still refuses, with unexpected_message, a ClientHello where the Finished was due from a client that then closed', async () => {
    const r = await serve();
    const err = nextClientError(r.server);
    const hello = decodeHandshake((await clientHelloBytes()).subarray(5));
    if (!hello.ok) throw new Error('the ClientHello does not decode');
    const s = raw(r.port);
    await once(s, 'connect');
    // A client whose second flight is a ClientHello, then its Finished (sent with its FIN, below).
    const c = new ClientConnection({
      ...defaultClientConfig({ serverName: 'localhost', verifyServerChain: parseLeafOnly }),
      env: systemEnvironment(),
      machine: clientFlightProbe(insertBefore('finished', hello.value)),
    });
    c.on('error', () => undefined);
    const flight: Uint8Array[] = [];
    let first = true;
    c.on('output', (b: Uint8Array) => {
      if (first) s.write(b);
      else flight.push(b);
      first = false;
    });
    c.once('handshake', () => s.end(Buffer.concat(flight)));
    s.on('data', (d: Buffer) => void c.receive(d));
    // Refusing it costs nothing: it does not wait for admission, where a closed peer's work is dropped.
    expect(await err).toMatchObject({ alert: 'unexpected_message', reason: 'UnexpectedMessage' });
    await until(() => c.error !== undefined);
    expect(c.error).toMatchObject({ alert: 'unexpected_message', remote: true });
  });
});

describe('timeouts end connections cleanly', () => {
  it('server: a client that stops after its ClientHello gets close_notify under the handshake keys when handshakeTimeout expires', async () => {
    const trace: TraceEntry[] = [];
    const r = await serve({ handshakeTimeout: 300, trace: (e) => trace.push(e) });
    const err = nextClientError(r.server);
    const s = raw(r.port);
    await once(s, 'connect');
    const received: Buffer[] = [];
    s.on('data', (d: Buffer) => received.push(d));
    s.write(await clientHelloBytes());
    expect((await err).reason).toBe('HandshakeTimeout');
    await once(s, 'end');
    const alerts = trace.filter((e) => e.kind === 'alert' && e.direction === 'out');
    expect(alerts).toEqual([{ kind: 'alert', direction: 'out', level: 1, alert: 'close_notify' }]);
    // The last record the client got is that alert, protected: opaque type 23, 2 bytes + type byte + 16-byte tag.
    const bytes = Buffer.concat(received);
    expect([...bytes.subarray(bytes.length - 24, bytes.length - 19)]).toEqual([23, 3, 3, 0, 19]);
    expect(r.server.stats().handshakeTimeouts).toBe(1);
  });

  it('server: a client that never sends a ClientHello is closed after handshakeTimeout, with no alert (no keys)', async () => {
    const trace: TraceEntry[] = [];
    const r = await serve({ handshakeTimeout: 200, trace: (e) => trace.push(e) });
    const err = nextClientError(r.server);
    const s = raw(r.port);
    const received: Buffer[] = [];
    s.on('data', (d: Buffer) => received.push(d));
    expect((await err).reason).toBe('HandshakeTimeout');
    await once(s, 'close');
    expect(Buffer.concat(received)).toHaveLength(0);
    expect(trace.filter((e) => e.kind === 'alert')).toEqual([]);
  });

  it('client: a server that never answers is a HandshakeTimeout error after handshakeTimeout', async () => {
    // Reads what the client sends and never answers.
    const port = await rawServer((s) => s.resume());
    const c = dial(port, { handshakeTimeout: 200 });
    const e = await nextError(c);
    expect(e.reason).toBe('HandshakeTimeout');
    expect(e.alert).toBe('handshake_failure');
  });

  it('server: an established connection idle for idleTimeout is closed with close_notify; activity keeps it open', async () => {
    let serverSide: TLSSocket | undefined;
    const r = await serve({ idleTimeout: 1000 }, (s) => {
      serverSide = s;
      s.on('data', () => undefined);
    });
    const c = dial(r.port);
    await once(c, 'secureConnect');
    const ended = once(c, 'end');
    c.on('data', () => undefined);
    // Busy for 1.5 s, longer than idleTimeout: one byte every 100 ms.
    for (let i = 0; i < 15; i++) {
      c.write('x');
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(r.server.stats().idleTimeouts).toBe(0);
    expect(c.readableEnded).toBe(false);
    await ended;
    expect(c.engine?.context.closeNotifyReceived).toBe(true);
    expect(r.server.stats().idleTimeouts).toBe(1);
    expect(serverSide?.engine?.context.closeNotifySent).toBe(true);
  });

  it('client: idleTimeout closes an idle connection with close_notify, which the server reads as the end', async () => {
    let serverEnded!: Promise<unknown>;
    const r = await serve({ idleTimeout: 0 }, (s) => {
      serverEnded = once(s, 'end');
      s.resume();
    });
    const c = dial(r.port, { idleTimeout: 200 });
    const idle = once(c, 'idle');
    await once(c, 'secureConnect');
    expect(await idle).toEqual([200]);
    await serverEnded;
    expect(c.engine?.context.closeNotifySent).toBe(true);
  });
});

describe('protocol limits and ticket memory are options of both ends', () => {
  it('createServer({ maxKeyUpdates }) refuses the KeyUpdate beyond it with unexpected_message', async () => {
    const serverErrors: Array<Error & { alert?: string; reason?: string }> = [];
    let serverSecure!: () => void;
    const secured = new Promise<void>((resolve) => (serverSecure = resolve));
    const r = await serve({ maxKeyUpdates: 2 }, (s) => {
      s.on('error', (e: Error) => serverErrors.push(e));
      serverSecure();
    });
    const c = dial(r.port);
    await Promise.all([once(c, 'secureConnect'), secured]);
    const clientError = once(c, 'error');
    for (let i = 0; i < 3; i++) await c.engine?.keyUpdate(false);
    const [e] = (await clientError) as [Error & { alert?: string; remote?: boolean }];
    expect(e).toMatchObject({ alert: 'unexpected_message', remote: true });
    await until(() => serverErrors.length > 0);
    expect(serverErrors[0]).toMatchObject({ alert: 'unexpected_message', reason: 'TooManyKeyUpdates' });
  });

  it('connect({ maxEmptyRecords }) refuses the empty record beyond it with unexpected_message', async () => {
    const r = await serve({}, (s) => {
      for (let i = 0; i < 3; i++) void s.engine?.write(new Uint8Array(0));
    });
    const c = dial(r.port, { maxEmptyRecords: 2 });
    const e = await new Promise<Error & { alert?: string; reason?: string }>((resolve) => c.once('error', resolve));
    expect(e).toMatchObject({ alert: 'unexpected_message', reason: 'TooManyEmptyRecords' });
  });

  it('sizes the default ticket store with maxTickets, and refuses maxTickets beside a store of your own', async () => {
    const r = await serve({ maxTickets: 3 });
    for (let i = 0; i < 3; i++) await sessions(dial(r.port), 2).first;
    expect((r.server.ticketStore as MemoryTicketStore).size).toBe(3);
    await expect(
      startServer({ key: fx.pki.leaf.keyPem, cert: fx.pki.leaf.certPem, maxTickets: 3, ticketStore: new MemoryTicketStore() }),
    ).rejects.toThrow(/maxTickets sizes the default in-memory store/);
  });

  it('rejects limits and timeouts that are not whole numbers in range', async () => {
    const base = { key: fx.pki.leaf.keyPem, cert: fx.pki.leaf.certPem };
    for (const bad of [
      { maxHandshakes: 0 },
      { handshakeQueue: -1 },
      { idleTimeout: 1.5 },
      { maxKeyUpdates: -1 },
      { maxHandshakeMessage: 3 },
      { maxTickets: 0 },
    ]) {
      await expect(startServer({ ...base, ...bad })).rejects.toThrow(TypeError);
    }
    expect(() => connect({ port: 1, handshakeTimeout: -5 })).toThrow(/handshakeTimeout/);
    expect(() => connect({ port: 1, maxHandshakeRecords: 0 })).toThrow(/maxHandshakeRecords/);
  });
});
