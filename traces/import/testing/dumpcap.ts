/**
 * Capturing loopback traffic in a test: `dumpcap -i lo -f 'tcp port N or
 * udp port M' -w F` (Debian package tshark, which brings dumpcap). "Capturing
 * on" comes before packets are really captured (the first packets of a fast
 * client were seen missing), so the helper then sends UDP probes to port M
 * until the file holds one: from then on every matching packet is captured.
 * The probes stay in the file; the importer skips what is not TCP. The kernel hands
 * packets over in blocks, and a SIGTERM drops a block not handed over yet, so
 * `stop` first waits until the file shows every connection the test made
 * over (a FIN each way, or a RST), then sends SIGTERM; dumpcap writes what it
 * has and exits, and the file is whole once the process is gone.
 *
 * Capturing needs root or CAP_NET_RAW. A missing dumpcap is `requirePeer`'s
 * case (fails under CI, skips naming the package otherwise); a dumpcap that
 * may not capture is treated the same way, with its own message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'vitest';
import { requirePeer } from '../../../interop/peers.js';
import { readCapture } from '../capture.js';
import type { TcpConnection } from '../tcp.js';
import { connectionsOf } from './tamper.js';

export interface RunningCapture {
  /** The pcapng file dumpcap writes. */
  readonly file: string;
  readonly dir: string;
  /** Wait until the file shows `connections` TCP connections over (FIN each way, or RST), stop dumpcap, and wait until it has written the file. */
  stop(connections: number): Promise<string>;
  /** Stop (if still running) and delete the directory. */
  remove(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
/** How long the kernel may keep captured packets before dumpcap writes them (libpcap's block timeout is about 1 s). */
const DRAIN_TIMEOUT_MS = 10_000;
const POLL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;
const NOT_ALLOWED = /permission|not permitted|don't have permission|Operation not permitted/i;

const ci = () => {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
};

/** Start capturing TCP on `port` over loopback; resolves once packets are being captured. */
export async function startCapture(ctx: Pick<TestContext, 'skip'>, port: number): Promise<RunningCapture> {
  const dumpcap = requirePeer(ctx, 'dumpcap');
  const dir = await mkdtemp(join(tmpdir(), 'tlschart-capture-'));
  const file = join(dir, 'capture.pcapng');
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const probePort = probe.address().port;
  const child = spawn(dumpcap, ['-i', 'lo', '-f', `tcp port ${port} or udp port ${probePort}`, '-w', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const started = await new Promise<'started' | 'exited' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
    const check = () => {
      if (/Capturing on/.test(output)) {
        clearTimeout(timer);
        resolve('started');
      }
    };
    child.stderr.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(/Capturing on/.test(output) ? 'started' : 'exited');
    });
  });
  if (started === 'started' && !(await probed(file, probe, probePort))) {
    probe.close();
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`dumpcap wrote none of the probes sent to udp port ${probePort} within ${START_TIMEOUT_MS} ms: ${output}`);
  }
  probe.close();
  if (started !== 'started') {
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
    const why = `dumpcap could not capture on lo (${started}): ${output.trim()}`;
    if (NOT_ALLOWED.test(output) && !ci()) return ctx.skip(`${why} — capturing needs root or CAP_NET_RAW`);
    throw new Error(why);
  }
  let stopped: Promise<string> | undefined;
  const stop = (connections: number) => {
    stopped ??= (async () => {
      const seen = await drained(file, connections);
      await kill(child, exited);
      if (seen < connections) {
        const ends = connectionsOf(new Uint8Array(await readFile(file))).map(
          (c) => `${c.client}→${c.server} ${c.toServer.end ?? 'open'}/${c.toClient.end ?? 'open'}`,
        );
        throw new Error(
          `the capture shows ${seen} of the ${connections} TCP connection(s) made over (FIN each way or RST), after ${DRAIN_TIMEOUT_MS} ms: ${ends.join(', ')}; ${output}`,
        );
      }
      return file;
    })();
    return stopped;
  };
  return {
    file,
    dir,
    stop,
    remove: async () => {
      await kill(child, exited);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Send UDP probes to ourselves until the capture file holds one; false if none arrives in time. */
async function probed(file: string, probe: ReturnType<typeof createSocket>, port: number): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    probe.send('tlschart capture probe', port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, POLL_MS));
    const r = readCapture(
      new Uint8Array(
        await readFile(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? new Uint8Array(0) : Promise.reject(e))),
      ),
    );
    if (r.ok && r.capture.packets.length > 0) return true;
  }
  return false;
}

/** Poll the file until it shows `n` TCP connections over; returns how many it shows. */
async function drained(file: string, n: number): Promise<number> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    // Over: a FIN each way, or a RST either way (after which the other side sends nothing more).
    const over = (c: TcpConnection) =>
      c.toServer.end === 'rst' || c.toClient.end === 'rst' || (c.toServer.end === 'fin' && c.toClient.end === 'fin');
    const closed = connectionsOf(new Uint8Array(await readFile(file))).filter(over).length;
    if (closed >= n || Date.now() > deadline) return closed;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([
    exited.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), STOP_TIMEOUT_MS).unref()),
  ]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}
