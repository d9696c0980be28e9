/**
 * The load and abuse flags of `tlschart serve` and `tlschart connect`, in
 * process on loopback with small numbers: refusals are logged, idle
 * connections closed, --trace streams each connection as it ends, the limits
 * reach both ends.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { type Captured, capture } from './testing/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tlschart-cli-hardening-'));
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startServe(args: string[]): Promise<{ io: Captured; port: number; certPath: string; stop: () => Promise<number> }> {
  const controller = new AbortController();
  const io = capture(controller.signal);
  const done = main(['serve', '--port', '0', ...args], io);
  let stopped: Promise<number> | undefined;
  const stop = () => {
    controller.abort();
    stopped ??= done;
    return stopped;
  };
  stops.push(stop);
  const [, port] = await io.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  const certPath = /certificate: (\S+)/.exec(io.out)?.[1] as string;
  stops.push(async () => rmSync(dirname(certPath), { recursive: true, force: true }));
  return { io, port: Number(port), certPath, stop };
}

const connectArgs = (port: number, certPath: string) => [`127.0.0.1:${port}`, '--ca', certPath, '--servername', 'localhost'];

describe('tlschart serve under load and abuse', () => {
  it('--trace appends each connection to the file as soon as it ends, as JSON Lines that trace check reads', async () => {
    const tracePath = join(dir, 'streamed.jsonl');
    const srv = await startServe(['--trace', tracePath]);
    expect(await main(['connect', ...connectArgs(srv.port, srv.certPath), '--reconnect', '1'], capture())).toBe(0);
    await srv.io.waitFor(/conn 2 /);
    // Still running: both connections are already on disk, one line each.
    for (;;) {
      const lines = readFileSync(tracePath, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      if (lines.length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines = readFileSync(tracePath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { handshakes: unknown[]; meta: { role: string } });
    expect(lines.map((l) => [l.meta.role, l.handshakes.length])).toEqual([
      ['server', 1],
      ['server', 1],
    ]);
    expect(await srv.stop()).toBe(0);
    expect(srv.io.out).toContain(`trace of 2 connection(s) in ${tracePath}`);
    const check = capture();
    expect(await main(['trace', 'check', tracePath], check)).toBe(0);
    expect(check.out).toMatch(/conforms to RFC 8446 .*2 handshake\(s\)/);
    const render = capture();
    expect(await main(['trace', 'render', tracePath], render)).toBe(0);
    expect(render.out).toContain('sequenceDiagram');
  });

  it('--idle-timeout closes an established connection that stays quiet, with close_notify, and logs it', async () => {
    const srv = await startServe(['--idle-timeout', '1']);
    const { connect } = await import('../net/connect.js');
    const c = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: readFileSync(srv.certPath, 'utf8') });
    stops.push(async () => c.destroy());
    c.resume();
    // The client says nothing after the handshake: the server closes, and the client reads the end.
    const ended = new Promise<void>((resolve) => c.once('end', () => resolve()));
    await srv.io.waitFor(/conn 127\.0\.0\.1:\d+ idle for 1 s: closed with close_notify/);
    await ended;
    expect(c.engine?.context.closeNotifyReceived).toBe(true);
  });

  it('--handshake-timeout ends a handshake that does not complete, and logs it', async () => {
    const srv = await startServe(['--handshake-timeout', '1']);
    const s = netConnect(srv.port, '127.0.0.1');
    s.on('error', () => undefined);
    stops.push(async () => s.destroy());
    await srv.io.waitFor(/conn 1 127\.0\.0\.1:\d+ failed: HandshakeTimeout: the TLS handshake did not complete within 1000 ms/);
  });

  it('--max-handshakes and --handshake-queue shed connections beyond them, one log line per second with the count', async () => {
    const srv = await startServe(['--max-handshakes', '1', '--handshake-queue', '0']);
    // 8 clients at once: the first ClientHello holds the only slot; most of the others are refused.
    const results = await Promise.all(
      Array.from({ length: 8 }, () => main(['connect', ...connectArgs(srv.port, srv.certPath)], capture())),
    );
    expect(results.filter((r) => r === 0).length).toBeGreaterThanOrEqual(1);
    expect(results.filter((r) => r === 1).length).toBeGreaterThanOrEqual(1);
    const [, n] = await srv.io.waitFor(
      /refused (\d+) connection\(s\) in the last second: busy \(\d+ handshake\(s\) running, \d+ waiting; --max-handshakes 1, --handshake-queue 0\)/,
    );
    expect(Number(n)).toBe(results.filter((r) => r === 1).length);
  });

  it('--max-key-updates reaches the server: the KeyUpdate beyond it is unexpected_message', async () => {
    const srv = await startServe(['--max-key-updates', '0']);
    // The limit of 0 refuses the first KeyUpdate; tlschart connect sends none, so use the library.
    const { connect } = await import('../net/connect.js');
    const { readFileSync: read } = await import('node:fs');
    const c = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: read(srv.certPath, 'utf8') });
    stops.push(async () => c.destroy());
    await new Promise<void>((resolve) => c.once('secureConnect', () => resolve()));
    const err = new Promise<Error & { alert?: string }>((resolve) => c.once('error', resolve));
    await c.engine?.keyUpdate(false);
    expect((await err).alert).toBe('unexpected_message');
    // Logged as a failed connection or as an error after the handshake, depending on whether the
    // KeyUpdate arrived with the client's Finished.
    await srv.io.waitFor(/alert unexpected_message sent \(TooManyKeyUpdates\)/);
  });

  it('--max-handshake-size reaches the client: a server certificate message above it is decode_error', async () => {
    const srv = await startServe([]);
    const io = capture();
    expect(await main(['connect', ...connectArgs(srv.port, srv.certPath), '--max-handshake-size', '300'], io)).toBe(1);
    expect(io.err).toMatch(/alert decode_error sent \(HandshakeMessageTooLarge\)/);
  });

  it('rejects flag values out of range with a usage error', async () => {
    for (const [args, message] of [
      [['serve', '--max-handshakes', '0'], /--max-handshakes must be between 1 and/],
      [['serve', '--idle-timeout', 'soon'], /--idle-timeout must be a whole number/],
      [['serve', '--max-tickets', '0'], /--max-tickets must be between 1 and/],
      [['connect', 'localhost:1', '--max-handshake-size', '3'], /--max-handshake-size must be between 4 and/],
      [['connect', 'localhost:1', '--handshake-timeout', '1.5'], /--handshake-timeout must be a whole number/],
    ] as const) {
      const io = capture();
      expect(await main([...args], io)).toBe(2);
      expect(io.err).toMatch(message);
    }
  });
});
