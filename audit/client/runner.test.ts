/**
 * How the audited client is started: the --exec template's placeholders
 * (each value one shell word), a command in its own process group with an
 * open standard input, stopped with its whole group at the timeout, and a
 * client in this process.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execRunner, fillTemplate, functionRunner, type Placeholders, placeholdersIn } from './runner.js';

const P: Placeholders = {
  host: '127.0.0.1',
  port: 4433,
  servername: 'localhost',
  servername2: 'other.localhost',
  tmp: "/tmp/a dir/it's",
  cafile: '/tmp/cert.pem',
};

/** Whether `pid` still runs: neither gone nor a zombie waiting for its (re)parent to reap it. */
const running = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
};

describe('the --exec template', () => {
  it('fills every placeholder with one shell word, and leaves other braces alone', () => {
    expect(fillTemplate('c {host}:{port} -sni {servername} -then {servername2} -f {tmp}/s --ca {cafile} {other}', P)).toBe(
      "c 127.0.0.1:4433 -sni localhost -then other.localhost -f '/tmp/a dir/it'\\''s'/s --ca /tmp/cert.pem {other}",
    );
    expect(placeholdersIn('x {port} {host} {tmp}')).toEqual(['host', 'port', 'tmp']);
  });
});

describe('a command as the audited client', () => {
  it('runs through sh with the placeholders filled, and reports its exit status and output', async () => {
    const r = await execRunner("printf '%s|%s|%s\\n' {servername} {port} {tmp}; exit 3").run(P, new AbortController().signal);
    expect(r).toMatchObject({ code: 3, signal: null, timedOut: false, output: "localhost|4433|/tmp/a dir/it's\n" });
    expect(r.command).toContain("'/tmp/a dir/it'\\''s'");
  });

  it('gets an open standard input, and is stopped with everything it started when the check times out', async () => {
    const controller = new AbortController();
    const run = execRunner('sleep 60 & echo "bg=$!"; read line; echo "read: $line"').run(P, controller.signal);
    setTimeout(() => controller.abort(), 500);
    const r = await run;
    expect(r.timedOut).toBe(true);
    expect(r.output).not.toContain('read:');
    const bg = Number(/bg=(\d+)/.exec(r.output)?.[1]);
    expect(bg).toBeGreaterThan(0);
    expect(running(bg)).toBe(false);
  });
});

describe('a client in this process', () => {
  it('resolves with status 0, 1 with the error, or stops at the timeout', async () => {
    expect(await functionRunner('ok', async () => undefined).run(P, new AbortController().signal)).toMatchObject({
      code: 0,
      timedOut: false,
    });
    expect(
      await functionRunner('bad', async () => Promise.reject(new Error('no route'))).run(P, new AbortController().signal),
    ).toMatchObject({ code: 1, output: 'no route' });
    const controller = new AbortController();
    controller.abort();
    expect(await functionRunner('slow', () => new Promise(() => undefined)).run(P, controller.signal)).toMatchObject({ timedOut: true });
  });
});
