/**
 * The servers the benchmarks run beside each other, each in its own process
 * on a free loopback port: `tlschart serve --www`, `openssl s_server -www`
 * (TLS 1.3, two tickets per handshake) and a node:tls server.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunningServer {
  name: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Wait until something accepts connections on `port` (the child must not exit first). */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

export async function startServer(name: string, certPath: string, keyPath: string): Promise<RunningServer | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  if (name === 'tlschart' || name === 'tlschart-late') {
    const serveArgs = ['serve', '--host', '127.0.0.1', '--port', String(port), '--cert', certPath, '--key', keyPath, '--www'];
    if (name === 'tlschart-late') serveArgs.push('--late-tickets');
    child = spawn(process.execPath, [join(here, '../cli/main.js'), ...serveArgs], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } else if (name === 'openssl') {
    if (spawnSync('openssl', ['version']).status !== 0) {
      console.log('openssl: not installed (Debian package openssl); skipped');
      return undefined;
    }
    child = spawn(
      'openssl',
      ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', certPath, '-key', keyPath, '-tls1_3', '-num_tickets', '2', '-www', '-quiet'],
      {
        stdio: ['ignore', 'ignore', 'ignore'],
      },
    );
  } else if (name === 'node') {
    child = spawn(process.execPath, [join(here, 'load-node-server.js'), String(port), certPath, keyPath], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } else throw new Error(`LOAD_SERVERS: unknown server ${name} (tlschart, tlschart-late, openssl, node)`);
  await waitForPort(port, child);
  return {
    name,
    port,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(t);
    },
  };
}
