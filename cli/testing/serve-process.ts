/**
 * `tlschart serve` as a real process, for tests where several servers must be
 * separate processes (sharing a ticket store in Redis). The CLI is compiled
 * once per test file from the current sources into a private directory under
 * node_modules/.cache (so its imports resolve to this checkout's
 * node_modules, and a stale dist/ never runs); every process started is
 * stopped by `stop()` (SIGTERM, then SIGKILL) or, as a last resort, at exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'tlschart-serve-process');

export interface BuiltCli {
  /** The compiled cli/main.js. */
  readonly main: string;
  remove(): Promise<void>;
}

/** Compile the sources (tsconfig.build.json) into a fresh directory; `remove()` in afterAll. */
export async function buildCli(): Promise<BuiltCli> {
  await mkdir(CACHE_DIR, { recursive: true });
  const outDir = await mkdtemp(path.join(CACHE_DIR, 'dist-'));
  const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
  const child = spawn(tsc, ['-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) {
    await rm(outDir, { recursive: true, force: true });
    throw new Error(`tsc -p tsconfig.build.json --outDir ${outDir} failed (${code}):\n${output}`);
  }
  return { main: path.join(outDir, 'cli', 'main.js'), remove: () => rm(outDir, { recursive: true, force: true }) };
}

export interface ServeProcess {
  readonly port: number;
  readonly pid: number | undefined;
  /** stdout so far (the connection lines). */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) matches; rejects on timeout or exit. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', withinMs?: number): Promise<void>;
  /** Whether the process is still running. */
  readonly running: boolean;
  /** SIGTERM (serve prints "stopped" and exits 0), SIGKILL after 5 s. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/** Start `node <main> serve --port 0 ...args` and wait for its "listening on" line. */
export async function startServe(cli: BuiltCli, args: readonly string[]): Promise<ServeProcess> {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const child = spawn(process.execPath, [cli.main, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  let exitCode: number | null | undefined;
  const closed = new Promise<number | null>((resolve) =>
    child.once('close', (code: number | null) => {
      live.delete(child);
      exitCode = code;
      resolve(code);
    }),
  );
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    wake();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    wake();
  });
  void closed.then(wake);

  const waitFor = (pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', withinMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(stream === 'stdout' ? out : err)) {
          done();
          resolve();
        } else if (exitCode !== undefined) {
          done();
          reject(new Error(`tlschart serve exited (${exitCode}) before printing ${pattern}:\n${out}\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`tlschart serve did not print ${pattern} within ${withinMs} ms:\n${out}\n${err}`));
      }, withinMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await closed;
    clearTimeout(killer);
    return code;
  };

  try {
    await waitFor(/listening on 127\.0\.0\.1:\d+/);
  } catch (e) {
    await stop();
    throw e;
  }
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  return {
    port,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    get running() {
      return exitCode === undefined;
    },
    stop,
  };
}
