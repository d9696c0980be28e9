/**
 * How the audited client is started for each check: a shell command (the
 * `--exec` template, its placeholders filled in), or a function in this
 * process (tests: tlschart's own client, the mutants of the mutation gate).
 *
 * A command runs in its own process group, with standard input an open pipe
 * that nothing is written to (clients such as `openssl s_client` stop
 * reading at end of input, before the tickets arrive); the probing server
 * closes each connection once it is done with it, which ends such clients.
 * At the check's timeout, or when the audit is interrupted, the group gets
 * SIGTERM, then SIGKILL after a grace period. Only that group is signalled.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Placeholders {
  /** The address the probing server listens on. */
  host: string;
  port: number;
  /** The server name the certificate is for (SNI to send). */
  servername: string;
  /** The name for the later connections: {servername} except in the check offer.other-sni. */
  servername2: string;
  /** A fresh directory for this run (session files); removed afterwards. */
  tmp: string;
  /** The PEM file of the probing server's certificate, for clients that verify it. */
  cafile: string;
}

export interface ClientRunResult {
  /** Exit status, or null when ended by a signal; always 0 for an in-process client that resolved. */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr, interleaved, at most 64 KiB. */
  output: string;
  /** The command line run (with the placeholders filled in). */
  command: string;
}

export interface ClientRunner {
  /** What is audited, for the report: the command template, or a description. */
  readonly label: string;
  /** Run the client once; resolves when it is done. Aborting `signal` stops it. */
  run(p: Placeholders, signal: AbortSignal): Promise<ClientRunResult>;
}

export const PLACEHOLDERS = ['host', 'port', 'servername', 'servername2', 'tmp', 'cafile'] as const;

/** A value as one shell word. */
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** The template with every {placeholder} replaced (values shell-quoted); unknown braces are left alone. */
export function fillTemplate(template: string, p: Placeholders): string {
  return template.replace(/\{(host|port|servername2|servername|tmp|cafile)\}/g, (_, name: keyof Placeholders) =>
    shellWord(String(p[name])),
  );
}

/** The placeholders a template uses. */
export function placeholdersIn(template: string): string[] {
  return PLACEHOLDERS.filter((n) => template.includes(`{${n}}`));
}

const OUTPUT_LIMIT = 64 * 1024;
const GRACE_MS = 2000;
const live = new Set<ChildProcess>();
let exitHook = false;

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch (e) {
    // ESRCH: the group is already gone.
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** `sh -c TEMPLATE` per check. */
export function execRunner(template: string): ClientRunner {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) killGroup(c, 'SIGKILL');
    });
  }
  return {
    label: template,
    run(p, signal) {
      const command = fillTemplate(template, p);
      return new Promise((resolve, reject) => {
        let output = '';
        let timedOut = false;
        const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
        live.add(child);
        const take = (d: Buffer) => {
          if (output.length < OUTPUT_LIMIT) output += d.toString('utf8').slice(0, OUTPUT_LIMIT - output.length);
        };
        child.stdout?.on('data', take);
        child.stderr?.on('data', take);
        // An EPIPE on a stdin the client closed is not our business.
        child.stdin?.on('error', () => undefined);
        let grace: NodeJS.Timeout | undefined;
        const stop = () => {
          timedOut = true;
          killGroup(child, 'SIGTERM');
          grace = setTimeout(() => killGroup(child, 'SIGKILL'), GRACE_MS);
        };
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
        child.once('error', (e) => {
          live.delete(child);
          signal.removeEventListener('abort', stop);
          reject(e);
        });
        child.once('close', (code, sig) => {
          live.delete(child);
          clearTimeout(grace);
          signal.removeEventListener('abort', stop);
          child.stdin?.destroy();
          // Whatever the shell left running in its group goes with it.
          if (child.pid !== undefined) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
            }
          }
          resolve({ code, signal: sig, timedOut, output, command });
        });
      });
    },
  };
}

/** A client in this process: `fn` makes its connections and resolves when done; it should honour `signal`. */
export function functionRunner(label: string, fn: (p: Placeholders, signal: AbortSignal) => Promise<void>): ClientRunner {
  return {
    label,
    async run(p, signal) {
      let timedOut = false;
      const aborted = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      let failure = '';
      await Promise.race([
        fn(p, signal).catch((e: unknown) => {
          failure = String((e as Error)?.message ?? e);
        }),
        aborted.then(() => {
          timedOut = true;
        }),
      ]);
      return { code: failure === '' ? 0 : 1, signal: null, timedOut, output: failure, command: label };
    },
  };
}
