/**
 * `tlschart trace import --inspect`: the imported capture replayed into an
 * XState inspector over a WebSocket (a minimal endpoint on 127.0.0.1 that
 * collects what it receives): one actor per side of each connection, with
 * its chart, the events it received and the states it reached; none of the
 * key log's secrets. A bad inspector URL is a usage error.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { capture } from '../../cli/testing/capture.js';
import { textForms } from '../testing/secrets.js';
import { startWsSink, type WsSink } from '../testing/ws-sink.js';

const fixture = (n: string) => fileURLToPath(new URL(`./fixtures/${n}`, import.meta.url));

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

describe('tlschart trace import --inspect', () => {
  it('replays both sides of both captured connections into the inspector, without the key log secrets', async () => {
    const sink = await startWsSink();
    try {
      const out = join(mkdtempSync(join(tmpdir(), 'tlschart-import-inspect-')), 'trace.json');
      const keys = fixture('openssl-resumption.keys');
      const io = capture();
      expect(
        await main(
          ['trace', 'import', fixture('openssl-resumption.pcapng'), '--keylog', keys, '--out', out, '--inspect-url', sink.url],
          io,
        ),
      ).toBe(0);
      expect(io.err).toBe('');
      expect(io.out).toContain(`inspecting 4 side(s), sanitised, at ${sink.url}`);
      const text = await settled(sink);
      const actors = sink.messages.filter((m) => m.includes('"type":"@xstate.actor"'));
      expect(actors).toHaveLength(4);
      expect(actors.join('\n')).toContain('expectCertificateOrCertificateRequest'); // the chart's definition
      for (const what of [
        '"recv.ServerHello"',
        '"recv.Finished"',
        '"recv.NewSessionTicket"',
        '"app.write"',
        '"expectServerFinished"',
        '"connected"',
        '"closed"',
      ])
        expect(text).toContain(what);
      const secrets = readFileSync(keys, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => l.split(' ')[2] as string);
      expect(secrets).toHaveLength(10);
      expect(secrets.filter((hex) => textForms(hex).some((f) => text.includes(f)))).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('refuses an inspector URL that is not ws:// or wss:// with the usage exit code of the trace commands', async () => {
    const io = capture();
    expect(await main(['trace', 'import', fixture('openssl-resumption.pcapng'), '--inspect-url', 'http://localhost:8080'], io)).toBe(64);
    expect(io.err).toMatch(
      /^tlschart: trace import: --inspect-url must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/localhost:8080"\n\nUsage: tlschart trace import CAPTURE/,
    );
  });
});
