/**
 * Inspection without key material: a recording inspector attached to both
 * sides of real handshakes collects every inspection event; the collected
 * output is scanned for every secret the connections held, as hex and as
 * base64. The Stately WebSocket inspector is checked end to end against a
 * local WebSocket endpoint.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { attachInspector, createWebSocketInspectorFor, REDACTED, sanitise } from './inspect.js';
import { runScenario, scenarioByName } from './testing/scenarios.js';
import { collectSecrets, connectionSecrets, privateKeyForms, textForms } from './testing/secrets.js';
import { startWsSink } from './testing/ws-sink.js';

const fixture = (n: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${n}`, import.meta.url)), 'utf8');

function leaks(text: string, secrets: Map<string, string>): string[] {
  return [...secrets].filter(([hex]) => textForms(hex).some((f) => text.includes(f))).map(([, where]) => where);
}

describe('sanitised inspection', () => {
  for (const name of ['resumption', 'hello-retry-resumption', 'refuse-bad-binder']) {
    it(`a recording inspector on both sides of ${name} sees states and messages but no secret`, async () => {
      const seen: unknown[] = [];
      const secrets = new Map<string, string>();
      privateKeyForms(fixture('server.key'), secrets);
      await runScenario(scenarioByName(name), {
        onStart: (c, s) => {
          attachInspector(c, (ev: InspectionEvent) => seen.push(ev));
          attachInspector(s, (ev: InspectionEvent) => seen.push(ev));
        },
        onDone: (c, s, state) => {
          connectionSecrets(c, secrets);
          connectionSecrets(s, secrets);
          collectSecrets({ sessions: state.sessions }, secrets);
        },
      });
      const facade = seen.map((ev) => {
        const e = ev as { actorRef: { getSnapshot(): unknown } };
        return { ...(ev as object), actorSnapshot: e.actorRef.getSnapshot() };
      });
      // Bytes become hex before the scan, so a secret left as raw bytes would show up too.
      const text = JSON.stringify(facade, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
      // What an inspector is for is still there: event types, states, public message bytes.
      expect(text).toContain('"@xstate.snapshot"');
      expect(text).toContain('recv.ServerHello');
      expect(text).toContain('expectEncryptedExtensions');
      expect(text).toContain('"clientRandom":"');
      expect(text).toContain(REDACTED);
      expect(secrets.size).toBeGreaterThan(10);
      expect(leaks(text, secrets)).toEqual([]);
    });
  }

  it('redacts by name, shows public bytes as hex and other bytes by length, and keeps witnesses as their kind', () => {
    const out = sanitise({
      psk: new Uint8Array([1, 2, 3]),
      clientHandshakeSecret: new Uint8Array(32),
      keyShares: [{ group: 29, privateKey: new Uint8Array(32), publicKey: new Uint8Array([9]) }],
      clientRandom: new Uint8Array([0xab, 0xcd]),
      data: new Uint8Array(5),
      serverFinished: { kind: 'FinishedVerified', verifyData: new Uint8Array([1]) },
      nested: { session: { psk: new Uint8Array(8), ticket: new Uint8Array([7]) } },
      fn: () => 1,
    });
    expect(out).toEqual({
      psk: REDACTED,
      clientHandshakeSecret: REDACTED,
      keyShares: REDACTED,
      clientRandom: 'abcd',
      data: '[5 bytes]',
      serverFinished: { kind: 'FinishedVerified' },
      nested: { session: { psk: REDACTED, ticket: '07' } },
    });
  });

  it('the Stately WebSocket inspector receives sanitised events over a real WebSocket', async () => {
    const sink = await startWsSink();
    const secrets = new Map<string, string>();
    const stops: Array<() => void> = [];
    try {
      await runScenario(scenarioByName('resumption'), {
        onStart: (c, s) => {
          stops.push(createWebSocketInspectorFor(c, { url: sink.url }).stop, createWebSocketInspectorFor(s, { url: sink.url }).stop);
        },
        onDone: (c, s) => {
          connectionSecrets(c, secrets);
          connectionSecrets(s, secrets);
        },
      });
      // The inspector sends from idle callbacks: wait until nothing more arrives for a while.
      const deadline = Date.now() + 10_000;
      let count = -1;
      while (Date.now() < deadline && (sink.messages.length === 0 || sink.messages.length !== count)) {
        count = sink.messages.length;
        await new Promise((r) => setTimeout(r, 300));
      }
      const text = sink.messages.join('\n');
      expect(sink.messages.length).toBeGreaterThan(20);
      expect(text).toContain('@xstate.actor');
      expect(text).toContain('recv.NewSessionTicket');
      expect(text).toContain('"connected"');
      expect(leaks(text, secrets)).toEqual([]);
    } finally {
      for (const stop of stops) stop();
      await sink.close();
    }
  });
});
