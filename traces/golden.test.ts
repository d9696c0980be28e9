/**
 * Golden traces: every deterministic scenario is run again and must produce
 * its committed trace byte for byte; and fresh connections fed only the
 * recorded inbound bytes must send exactly the recorded outbound records.
 * Both hold on either crypto provider: the same seeded random bytes give the
 * same key shares, and the fixtures sign with @noble keys (RFC 6979).
 * Regenerate with UPDATE_TRACES=1 (and review the diff).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../crypto/noble.js';
import { nodeProvider } from '../crypto/node-provider.js';
import { parseTrace, serializeTrace, type Trace } from './format.js';
import { replayFromInbound } from './testing/replay.js';
import { runScenario, SCENARIOS } from './testing/scenarios.js';

const dir = fileURLToPath(new URL('./golden/', import.meta.url));
const update = process.env.UPDATE_TRACES === '1';
const goldenPath = (name: string) => `${dir}${name}.json`;

function golden(name: string): Trace {
  const parsed = parseTrace(readFileSync(goldenPath(name), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.trace;
}

describe('golden traces', () => {
  for (const scenario of SCENARIOS) {
    it(`re-running ${scenario.name} reproduces its golden trace byte for byte`, async () => {
      const text = serializeTrace(await runScenario(scenario));
      if (update) writeFileSync(goldenPath(scenario.name), text);
      expect(existsSync(goldenPath(scenario.name)), `${scenario.name}.json is missing: run UPDATE_TRACES=1 npx vitest run traces`).toBe(
        true,
      );
      expect(text).toBe(readFileSync(goldenPath(scenario.name), 'utf8'));
    });

    it(`re-running ${scenario.name} on the node:crypto provider reproduces the same golden trace byte for byte`, async () => {
      // Same key shares from the same seeded random bytes; the fixtures sign with @noble keys (RFC 6979).
      const text = serializeTrace(await runScenario(scenario, { crypto: nodeProvider }));
      expect(text).toBe(readFileSync(goldenPath(scenario.name), 'utf8'));
    });

    it(`fresh connections fed the inbound bytes of ${scenario.name} send exactly its recorded records, on either provider`, async () => {
      const trace = golden(scenario.name);
      for (const crypto of [nobleProvider, nodeProvider]) {
        const sides = await replayFromInbound(scenario, trace, crypto);
        expect(sides).toHaveLength(trace.handshakes.length * 2);
        for (const side of sides) {
          const who = `${side.role} #${side.handshake} on ${crypto.name}`;
          expect(side.recorded.length, `${who} sent something`).toBeGreaterThan(0);
          expect({ who, out: side.replayed }).toEqual({ who, out: side.recorded });
          expect(side.finalState.replayed).toBe(side.finalState.recorded);
        }
      }
    });
  }

  it('keeps one golden file per scenario and no other', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(SCENARIOS.map((s) => `${s.name}.json`).sort());
  });

  it('shows each refusal in its golden trace with the alert RFC 8446 names', () => {
    const outcome = (name: string, h: number, role: 'client' | 'server') =>
      golden(name).handshakes[h]?.sides.find((s) => s.role === role)?.outcome;
    const sent = (name: string, h: number, role: 'client' | 'server') =>
      golden(name)
        .handshakes[h]?.sides.find((s) => s.role === role)
        ?.steps.filter((s) => s.direction === 'out')
        .map((s) => s.message?.type ?? s.kind) ?? [];
    expect(outcome('refuse-bad-binder', 1, 'server')).toMatchObject({ state: 'failed', alert: 'decrypt_error', reason: 'IncorrectBinder' });
    expect(outcome('refuse-bad-finished', 0, 'client')).toMatchObject({ state: 'failed', alert: 'decrypt_error', reason: 'BadFinished' });
    expect(outcome('refuse-end-of-early-data', 0, 'server')).toMatchObject({ state: 'failed', alert: 'unexpected_message' });
    expect(outcome('refuse-unoffered-early-data', 0, 'client')).toMatchObject({
      state: 'failed',
      alert: 'unsupported_extension',
      reason: 'UnofferedEarlyData',
    });
    // psk_ke only: no resumption (Certificate sent) and no tickets
    expect(sent('refuse-psk-ke-only', 1, 'server')).toContain('certificate');
    expect(sent('refuse-psk-ke-only', 1, 'server')).not.toContain('new_session_ticket');
    // early data offered: resumed, early records skipped, no early_data in EncryptedExtensions
    const early = golden('refuse-early-data').handshakes[1]?.sides.find((s) => s.role === 'server');
    expect(early?.steps.filter((s) => s.kind === 'early_data_skipped').length).toBeGreaterThan(0);
    const ee = early?.steps.find((s) => s.direction === 'out' && s.message?.type === 'encrypted_extensions');
    expect(JSON.stringify(ee?.message?.fields)).not.toContain('early_data');
    // resumption: no Certificate, no CertificateVerify
    expect(sent('resumption', 1, 'server')).toEqual([
      'server_hello',
      'change_cipher_spec',
      'encrypted_extensions',
      'finished',
      'new_session_ticket',
      'new_session_ticket',
    ]);
  });
});
