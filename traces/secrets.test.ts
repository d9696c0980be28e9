/**
 * No secret reaches a trace: every scenario is run again and its trace text
 * is scanned for every secret its connections held (traffic and stage
 * secrets, PSKs, ECDHE private keys, the signing keys of the fixtures), as
 * hex and as base64. The contexts are read after every event, not only at the
 * end: once connected, a chart drops its handshake secrets and key shares. The same secrets do appear in the key log, which is
 * written separately and only on request.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serializeTrace } from './format.js';
import { KEYLOG_LINE, keylogTo } from './keylog.js';
import { runScenario, SCENARIOS } from './testing/scenarios.js';
import { collectSecrets, connectionSecrets, privateKeyForms, textForms } from './testing/secrets.js';

const fixture = (n: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${n}`, import.meta.url)), 'utf8');

describe('secrets never reach a trace', () => {
  for (const scenario of SCENARIOS) {
    it(`the ${scenario.name} trace contains none of the secrets its connections held`, async () => {
      const secrets = new Map<string, string>();
      privateKeyForms(fixture('server.key'), secrets);
      privateKeyForms(fixture('client.key'), secrets);
      const trace = await runScenario(scenario, {
        onStart: (c, s) => {
          for (const conn of [c, s]) conn.actor.subscribe((snap) => collectSecrets(snap.context, secrets));
        },
        onDone: (c, s, state) => {
          connectionSecrets(c, secrets);
          connectionSecrets(s, secrets);
          collectSecrets({ sessions: state.sessions }, secrets);
        },
      });
      const kinds = [...secrets.values()].join(' ');
      // The scan has something to find: handshake secrets, ECDHE private keys, the signing keys.
      expect(kinds).toMatch(/HandshakeSecret/);
      expect(kinds).toMatch(/privateKey/);
      expect(kinds).toMatch(/pkcs8/);
      if (scenario.handshakes.length > 1) expect(kinds).toMatch(/psk/);
      const text = serializeTrace(trace);
      const leaks = [...secrets].filter(([hex]) => textForms(hex).some((f) => text.includes(f))).map(([, where]) => where);
      expect(leaks).toEqual([]);
    });
  }

  it('the key log, kept apart, does carry the traffic secrets in NSS format', async () => {
    const lines: string[] = [];
    const secrets = new Map<string, string>();
    const trace = await runScenario(SCENARIOS[0]!, {
      onStart: (c) => keylogTo(c, (l) => lines.push(l)),
      onDone: (c) => connectionSecrets(c, secrets),
    });
    // client and server handshake traffic secrets, both application traffic secrets, the exporter secret
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(KEYLOG_LINE);
    const logged = lines.map((l) => l.trim().split(' ')[2] as string);
    expect(logged.filter((x) => secrets.has(x)).length).toBeGreaterThanOrEqual(4);
    const text = serializeTrace(trace);
    for (const x of logged) expect(text).not.toContain(x);
  });
});
