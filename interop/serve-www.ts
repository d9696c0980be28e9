/**
 * `tlschart serve --www` run in-process for interop tests with browsers and other
 * stacks, and what its trace says about each handshake.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { serve } from '../cli/serve.js';
import { capture } from '../cli/testing/capture.js';
import { fromHex } from '../crypto/bytes.js';
import { parseTrace, type Trace } from '../traces/format.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import type { TempDir } from './peers.js';

/** `tlschart serve --www` in-process with `args`, stopped after `body`; returns its log and its trace. */
export async function withServe(
  tmp: TempDir,
  args: string[],
  body: (origin: string) => Promise<void>,
): Promise<{ log: string; trace: Trace }> {
  const stop = new AbortController();
  const io = capture(stop.signal);
  const traceFile = join(tmp.path, `serve-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  const running = serve(['--port', '0', '--www', '--trace', traceFile, ...args], io);
  try {
    const [, port] = await io.waitFor(/listening on 127\.0\.0\.1:(\d+)/, 15_000);
    await body(`https://localhost:${port}`);
  } finally {
    stop.abort();
    expect(await running).toBe(0);
  }
  const parsed = parseTrace(readFileSync(traceFile, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return { log: io.out, trace: parsed.trace };
}

/** Whether each recorded handshake went through a HelloRetryRequest. */
export function helloRetries(trace: Trace): boolean[] {
  return trace.handshakes.map((hs) =>
    hs.sides.some((s) =>
      s.steps.some((step) => {
        if (step.message?.type !== 'server_hello') return false;
        const d = decodeHandshake(fromHex(step.message.hex));
        return d.ok && d.value.type === 'server_hello' && d.value.isHelloRetryRequest;
      }),
    ),
  );
}

/** The groups of the key shares in each handshake's first ClientHello. */
export function offeredShares(trace: Trace): string[][] {
  return trace.handshakes.map((hs) => {
    for (const s of hs.sides) {
      for (const step of s.steps) {
        if (step.message?.type !== 'client_hello') continue;
        const d = decodeHandshake(fromHex(step.message.hex));
        if (d.ok && d.value.type === 'client_hello')
          return (findExtension(d.value.extensions, 'key_share_client')?.shares ?? []).map((x) => x.group.toString(16));
      }
    }
    return [];
  });
}
