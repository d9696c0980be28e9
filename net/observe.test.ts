/**
 * Observing sockets: `traceCollector` records real loopback connections as
 * tlschart traces that read back and conform (with guard outcomes from the
 * traced charts), next to the raw `trace` callback; `inspect` gets sanitised
 * inspection events with none of the connection's secrets; `inspector`
 * starts once per connection and stops when its socket closes.
 */

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { toHex } from '../crypto/bytes.js';
import type { TraceEntry } from '../engine/connection.js';
import { loadTrace, type Trace } from '../traces/format.js';
import { checkTrace } from '../traces/monitor.js';
import { TraceCollector } from '../traces/recorder.js';
import { connectionSecrets, privateKeyForms, textForms } from '../traces/testing/secrets.js';
import { type ConnectOptions, connect } from './connect.js';
import type { ServerOptions } from './server.js';
import type { TLSSocket, TlsConnection } from './socket.js';
import { collect, makePki, type Running, sessions, startServer, type TestPki } from './testing/fixtures.js';

let pki: TestPki;
const running: Running[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tlschart-net-observe-'));

beforeAll(async () => {
  pki = await makePki('ecdsa-p256');
});
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A server that answers the first chunk with a line, then closes its side. */
async function serve(options: Partial<ServerOptions>, onSecure?: (s: TLSSocket) => void): Promise<Running> {
  const r = await startServer({ key: pki.leaf.keyPem, cert: pki.leaf.certPem, ...options }, (s) => {
    onSecure?.(s);
    s.on('error', () => undefined);
    s.once('data', () => s.end(`hello ${s.isSessionReused() ? 'again' : 'stranger'}\n`));
  });
  running.push(r);
  return r;
}

/** One client connection: handshake, a line, the server's answer, close. Resolves with the socket and what it received. */
async function exchange(
  port: number,
  options: Partial<ConnectOptions> = {},
): Promise<{ socket: TLSSocket; reply: string; tickets: Buffer[] }> {
  const socket = connect({ host: '127.0.0.1', servername: 'localhost', port, ca: pki.ca.certPem, ...options });
  const t = sessions(socket, 2);
  const body = collect(socket);
  await once(socket, 'secureConnect');
  socket.write('hi\n');
  const reply = (await body).toString();
  socket.end();
  if (!socket.closed) await once(socket, 'close');
  return { socket, reply, tickets: t.list };
}

async function saved(collector: TraceCollector, name: string): Promise<Trace> {
  const file = join(dir, name);
  await collector.save(file);
  const back = loadTrace(file);
  if (!back.ok) throw new Error(back.error);
  return back.trace;
}

describe('recording sockets with traceCollector', () => {
  it('records a full handshake and its resumption on both ends as traces that conform, with guard outcomes', async () => {
    const serverSide = new TraceCollector({ peer: 'tlschart clients' });
    const clientSide = new TraceCollector({ peer: '127.0.0.1' });
    const serverEntries: TraceEntry[] = [];
    const r = await serve({ traceCollector: serverSide, trace: (e) => serverEntries.push(e) });
    const first = await exchange(r.port, { traceCollector: clientSide, traceLabel: 'full' });
    expect(first.reply).toBe('hello stranger\n');
    const ticket = first.tickets.at(-1);
    expect(ticket).toBeDefined();
    const second = await exchange(r.port, { traceCollector: clientSide, traceLabel: 'resumed', session: ticket as Buffer });
    expect(second.reply).toBe('hello again\n');
    expect(second.socket.isSessionReused()).toBe(true);
    await r.stop();
    running.length = 0;

    const client = await saved(clientSide, 'client.json');
    expect(client.meta).toMatchObject({ role: 'client', peer: '127.0.0.1' });
    expect(client.handshakes.map((h) => [h.label, h.sides.map((s) => s.role)])).toEqual([
      ['full', ['client']],
      ['resumed', ['client']],
    ]);
    const [full, resumed] = client.handshakes.map((h) => h.sides[0]!);
    const received = (side: typeof full) =>
      side!.steps.filter((s) => s.direction === 'in' && s.kind === 'handshake').map((s) => s.message?.type);
    expect(received(full)).toEqual([
      'server_hello',
      'encrypted_extensions',
      'certificate',
      'certificate_verify',
      'finished',
      'new_session_ticket',
      'new_session_ticket',
    ]);
    expect(received(resumed)).toEqual(['server_hello', 'encrypted_extensions', 'finished', 'new_session_ticket', 'new_session_ticket']);
    // Guard outcomes come only from the traced chart, which the socket ran because a collector was given.
    const serverHello = full!.steps.find((s) => s.message?.type === 'server_hello')!;
    expect(serverHello.guards.map((g) => g.guard)).toContain('isHelloRetryRequest');
    expect(checkTrace(client)).toMatchObject({ conforms: true });

    const server = await saved(serverSide, 'server.json');
    expect(server.meta.role).toBe('server');
    expect(server.handshakes).toHaveLength(2);
    for (const h of server.handshakes) expect(h.label).toMatch(/^connection from 127\.0\.0\.1:\d+$/);
    expect(server.handshakes[1]!.sides[0]!.steps.some((s) => s.direction === 'out' && s.message?.type === 'certificate')).toBe(false);
    expect(checkTrace(server)).toMatchObject({ conforms: true });
    // The raw trace callback still sees every entry, alongside the collector.
    expect(serverEntries.filter((e) => e.kind === 'message' && e.direction === 'in' && e.name === 'client_hello')).toHaveLength(2);
  });

  it('records the application data a socket sends as gathered chunks whole: every byte of its records', async () => {
    const collector = new TraceCollector({ peer: '127.0.0.1' });
    const r = await serve({});
    const socket = connect({ host: '127.0.0.1', servername: 'localhost', port: r.port, ca: pki.ca.certPem, traceCollector: collector });
    const body = collect(socket);
    await once(socket, 'secureConnect');
    socket.write(Buffer.alloc(40_000, 0x61));
    expect((await body).toString()).toBe('hello stranger\n');
    socket.end();
    if (!socket.closed) await once(socket, 'close');
    const trace = await saved(collector, 'data.json');
    const records = trace.handshakes[0]!.sides[0]!.steps.flatMap((s) => (s.direction === 'out' ? s.records : [])).filter(
      (rec) => rec.contentType === 23 && rec.epoch.startsWith('application'),
    );
    // 40000 bytes: three records (and the close_notify's own), each written as header and ciphertext chunks.
    const data = records.find((rec) => rec.length === 40_000 + 3 * 22);
    expect(data).toBeDefined();
    expect(data!.hex).toHaveLength(2 * data!.length);
    for (const rec of records) expect(rec.hex).toHaveLength(2 * rec.length);
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });

  it('records a handshake that fails, with the alert the client sent', async () => {
    const collector = new TraceCollector({ peer: '127.0.0.1' });
    const r = await serve({});
    const socket = connect({ host: '127.0.0.1', servername: 'localhost', port: r.port, traceCollector: collector }); // Node's roots do not know the test CA
    const [err] = (await once(socket, 'error')) as [Error & { alert?: string }];
    expect(err.alert).toBe('unknown_ca');
    const trace = await saved(collector, 'failed.json');
    const side = trace.handshakes[0]!.sides[0]!;
    expect(side.outcome).toMatchObject({ state: 'failed', alert: 'unknown_ca' });
    expect(side.steps.at(-1)).toMatchObject({ direction: 'out', kind: 'alert', alert: { description: 'unknown_ca' } });
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });
});

describe('inspecting sockets', () => {
  it('gives inspect sanitised events on both ends: states and messages, none of the connection secrets', async () => {
    const seen: InspectionEvent[] = [];
    const keylog: string[] = [];
    const engines: TlsConnection[] = [];
    const r = await serve({ inspect: (ev) => seen.push(ev) }, (s) => engines.push(s.engine as TlsConnection));
    const { socket } = await exchange(r.port, {
      inspect: { next: (ev: InspectionEvent) => seen.push(ev) },
      keylog: (line) => keylog.push(line.toString()),
    });
    engines.push(socket.engine as TlsConnection);

    // Every secret either end held: the key log's traffic secrets, the contexts' secrets, the server's signing key.
    const secrets = new Map<string, string>();
    for (const line of keylog) secrets.set(line.trim().split(' ')[2] as string, line.split(' ')[0] as string);
    expect(secrets.size).toBe(5);
    for (const e of engines) connectionSecrets(e, secrets);
    privateKeyForms(pki.leaf.keyPem, secrets);

    // Bytes as hex, the way an inspector UI would show them, so an unsanitised byte string would be found.
    const text = JSON.stringify(
      seen.map((ev) => ({ ...ev, actorSnapshot: (ev.actorRef as { getSnapshot(): unknown }).getSnapshot() })),
      (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v),
    );
    const roots = new Set(seen.map((ev) => ev.rootId));
    expect(roots.size).toBe(2);
    expect(text).toContain('"@xstate.snapshot"');
    expect(text).toContain('expectServerHello');
    expect(text).toContain('expectClientFinished');
    expect(text).toContain('recv.Finished');
    expect(text).toContain('"connected"');
    const leaked = [...secrets].filter(([hex]) => textForms(hex).some((f) => text.includes(f))).map(([, where]) => where);
    expect(leaked).toEqual([]);
  });

  it('starts an inspector for each connection with its engine connection and stops it when the socket closes', async () => {
    const log: string[] = [];
    const inspector = (name: string) => (conn: TlsConnection) => {
      log.push(`${name} start ${conn.state}`);
      return { stop: () => log.push(`${name} stop ${conn.state}`) };
    };
    let serverSocket: TLSSocket | undefined;
    const r = await serve({ inspector: inspector('server') }, (s) => (serverSocket = s));
    const { socket } = await exchange(r.port, { inspector: inspector('client') });
    expect(socket.closed).toBe(true);
    if (!serverSocket) throw new Error('the server saw no connection');
    if (!serverSocket.closed) await once(serverSocket, 'close');
    expect(log.filter((l) => l.startsWith('client'))).toEqual(['client start expectServerHello', 'client stop closed']);
    expect(log.filter((l) => l.startsWith('server'))).toEqual(['server start expectClientHello', 'server stop closed']);
  });
});
