/**
 * --inspect end to end: demo, serve and connect stream their statecharts to a
 * WebSocket endpoint on 127.0.0.1 (a minimal one that only collects what it
 * receives), sanitised: the secrets the key log of the same run holds never
 * appear. Without a listening endpoint, --inspect is one line and exit 1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { textForms } from '../traces/testing/secrets.js';
import { startWsSink, type WsSink } from '../traces/testing/ws-sink.js';
import { main } from './main.js';
import { capture } from './testing/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tlschart-cli-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Wait until the sink has received something and nothing more arrives for a while. */
async function settled(sink: WsSink): Promise<string> {
  const deadline = Date.now() + 10_000;
  let count = -1;
  while (Date.now() < deadline && (sink.messages.length === 0 || sink.messages.length !== count)) {
    count = sink.messages.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  return sink.messages.join('\n');
}

/** The secrets of NSS key log lines (third field, hex). */
function keylogSecrets(path: string): string[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[2] as string);
}

/**
 * The messages with every byte string as hex: a Uint8Array that reached the
 * WebSocket unsanitised is serialised as {"0":n,"1":n,…} or [n,n,…], which a
 * scan of the text alone would miss.
 */
function bytesAsHex(messages: string[]): string {
  const isByte = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length >= 16 && v.every(isByte) ? Buffer.from(v as number[]).toString('hex') : v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v);
    if (entries.length >= 16 && entries.every(([k, x], i) => k === String(i) && isByte(x)))
      return Buffer.from(entries.map(([, x]) => x as number)).toString('hex');
    return Object.fromEntries(entries.map(([k, x]) => [k, walk(x)]));
  };
  return messages.map((m) => JSON.stringify(walk(JSON.parse(m)))).join('\n');
}

const leaked = (messages: string[], secrets: string[]) => {
  const text = `${messages.join('\n')}\n${bytesAsHex(messages)}`;
  return secrets.filter((hex) => textForms(hex).some((f) => text.includes(f)));
};

describe('tlschart --inspect', () => {
  it('demo streams both ends of both handshakes to the inspector, without any secret of its key log', async () => {
    const sink = await startWsSink();
    try {
      const keylog = join(dir, 'demo-keys.txt');
      const io = capture();
      expect(await main(['demo', '--inspect-url', sink.url, '--keylog', keylog], io)).toBe(0);
      expect(io.out).toContain(`inspecting both ends, sanitised, at ${sink.url}`);
      expect(io.err).toBe('');
      const text = await settled(sink);
      // Four actors (two clients, two servers), their states and events.
      const actors = sink.messages.filter((m) => m.includes('"type":"@xstate.actor"'));
      expect(actors).toHaveLength(4);
      expect(text).toContain('expectServerHello');
      expect(text).toContain('expectClientHello');
      expect(text).toContain('recv.NewSessionTicket');
      expect(text).toContain('"connected"');
      const secrets = keylogSecrets(keylog);
      expect(secrets).toHaveLength(10);
      expect(leaked(sink.messages, secrets)).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('serve and connect stream every connection, sanitised, and stop when done', async () => {
    const sink = await startWsSink();
    const controller = new AbortController();
    const srvIo = capture(controller.signal);
    try {
      const serverKeys = join(dir, 'serve-keys.txt');
      const done = main(['serve', '--port', '0', '--inspect-url', sink.url, '--keylog', serverKeys], srvIo);
      const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      const certPath = /certificate: (\S+)/.exec(srvIo.out)?.[1] as string;
      const io = capture();
      expect(
        await main(
          ['connect', `127.0.0.1:${port}`, '--ca', certPath, '--servername', 'localhost', '--inspect-url', sink.url, '--reconnect', '1'],
          io,
        ),
      ).toBe(0);
      await srvIo.waitFor(/conn 2 /);
      controller.abort();
      expect(await done).toBe(0);
      rmSync(dirname(certPath), { recursive: true, force: true });
      expect(io.err + srvIo.err).toBe('');
      const text = await settled(sink);
      expect(sink.messages.filter((m) => m.includes('"type":"@xstate.actor"'))).toHaveLength(4);
      expect(text).toContain('"closed"');
      const secrets = keylogSecrets(serverKeys);
      expect(secrets).toHaveLength(10);
      expect(leaked(sink.messages, secrets)).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('fails with one line and exit 1 when nothing listens at the inspector URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const io = capture();
    expect(await main(['demo', '--inspect-url', `ws://127.0.0.1:${port}`], io)).toBe(1);
    expect(io.err).toBe(
      `tlschart: demo: --inspect: nothing answers at ws://127.0.0.1:${port} (ECONNREFUSED); start a WebSocket inspector server there first (see tlschart demo --help)\n`,
    );
    expect(io.out).toBe('');
  });

  it('refuses an inspector URL that is not ws:// or wss:// as a usage error', async () => {
    const io = capture();
    expect(await main(['connect', 'localhost:4433', '--inspect-url', 'http://localhost:8080'], io)).toBe(2);
    expect(io.err).toBe('tlschart: connect: --inspect-url must be a ws:// or wss:// URL, got "http://localhost:8080"\n');
  });

  for (const command of ['demo', 'serve', 'connect']) {
    it(`tlschart ${command} --help says where --inspect connects, that Stately hosts the UI and that it is sanitised`, async () => {
      const io = capture();
      expect(await main([command, '--help'], io)).toBe(0);
      const help = io.out.replace(/\s+/g, ' ');
      expect(help).toContain('--inspect ');
      expect(help).toContain('ws://localhost:8080');
      expect(help).toContain('inspector UI hosted by Stately (https://stately.ai/inspect)');
      expect(help).toContain('sanitised first: no secret, key or PSK is sent');
      expect(help).toContain('--inspect-url URL');
    });
  }
});
