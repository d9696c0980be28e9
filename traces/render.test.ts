/**
 * Sequence charts drawn from golden traces: the messages in the order they
 * crossed the wire, encrypted ones in the RFC's brackets, the authentication
 * skipped by resumption and each refusal as a note; SVG and HTML standalone.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTrace, type Trace } from './format.js';
import { sequenceHtml, sequenceMermaid, sequenceModel, sequenceSvg } from './sequence.js';

function golden(name: string): Trace {
  const p = parseTrace(readFileSync(fileURLToPath(new URL(`./golden/${name}.json`, import.meta.url)), 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return p.trace;
}

/** The Mermaid lines of handshake `h` (after its label note). */
function section(mermaid: string, label: string, next?: string): string[] {
  const lines = mermaid.split('\n');
  const start = lines.indexOf(`  Note over C,S: ${label}`);
  const end = next ? lines.indexOf(`  Note over C,S: ${next}`) : lines.length;
  expect(start).toBeGreaterThanOrEqual(0);
  return lines.slice(start + 1, end).filter((l) => l.trim() !== '');
}

describe('sequence charts', () => {
  it('draws a full handshake and its resumption like the seed figures, with the skipped authentication as a note', () => {
    const m = sequenceMermaid(golden('resumption'));
    expect(m.startsWith('sequenceDiagram\n  participant C as Client\n  participant S as Server\n')).toBe(true);
    const full = section(m, 'full handshake', 'resumption (psk_dhe_ke)');
    expect(full).toEqual([
      '  C->>S: ClientHello + key_share + psk_key_exchange_modes(psk_dhe_ke)',
      '  S->>C: ServerHello + key_share(X25519MLKEM768)',
      '  S->>C: ChangeCipherSpec (compatibility)',
      '  S->>C: {EncryptedExtensions}',
      '  S->>C: {Certificate}',
      '  S->>C: {CertificateVerify}',
      '  S->>C: {Finished}',
      '  C->>S: ChangeCipherSpec (compatibility)',
      '  C->>S: {Finished}',
      '  S->>C: [NewSessionTicket]',
      '  S->>C: [NewSessionTicket]',
    ]);
    const resumed = section(m, 'resumption (psk_dhe_ke)');
    expect(resumed.slice(0, 6)).toEqual([
      '  C->>S: ClientHello + key_share + psk_key_exchange_modes(psk_dhe_ke) + pre_shared_key',
      '  S->>C: ServerHello + key_share(X25519MLKEM768) + pre_shared_key',
      '  S->>C: ChangeCipherSpec (compatibility)',
      '  S->>C: {EncryptedExtensions}',
      '  Note over C,S: Certificate, CertificateVerify skipped: PSK',
      '  S->>C: {Finished}',
    ]);
    expect(resumed.join('\n')).not.toContain('{Certificate}');
  });

  it('shows no skipped-authentication note for a full handshake', () => {
    expect(sequenceMermaid(golden('full-handshake'))).not.toContain('skipped: PSK');
  });

  it('names the group the ServerHello chose: the hybrid by default, plain x25519 for a client without it', () => {
    expect(sequenceMermaid(golden('resumption'))).toContain('S->>C: ServerHello + key_share(X25519MLKEM768) + pre_shared_key');
    expect(sequenceMermaid(golden('resumption-x25519'))).toContain('S->>C: ServerHello + key_share(x25519) + pre_shared_key');
  });

  it('shows a HelloRetryRequest with the group it asks for', () => {
    const m = sequenceMermaid(golden('hello-retry'));
    expect(m).toContain('S->>C: HelloRetryRequest + key_share(x25519)');
    expect(m.indexOf('HelloRetryRequest')).toBeLessThan(m.lastIndexOf('C->>S: ClientHello'));
  });

  it('shows refusals: the fatal alert crossed out and a note naming the alert and the reason', () => {
    const m = sequenceMermaid(golden('refuse-bad-finished'));
    expect(m).toContain('C-xS: {Alert: decrypt_error}');
    expect(m).toContain('Note over C,S: client aborts: decrypt_error (BadFinished)');
    const e = sequenceMermaid(golden('refuse-early-data'));
    expect(e).toMatch(/C->>S: \(0-RTT data \(\d+ bytes\)\)/);
    expect(e).toContain('early data refused');
  });

  it('points every recorded step, sent or received, at one drawn arrow', () => {
    const t = golden('resumption');
    const model = sequenceModel(t);
    for (const [h, hs] of t.handshakes.entries()) {
      for (const side of hs.sides) {
        side.steps.forEach((step, i) => {
          const arrow = model.stepArrow.get(`${h}:${side.role}:${i}`);
          expect(arrow, `${side.role} step ${i}`).toBeDefined();
          const a = model.handshakes[h]?.arrows[arrow as number];
          expect(a?.kind).toBe('message');
          if (a?.kind === 'message')
            expect(a.from).toBe(step.direction === 'out' ? side.role : side.role === 'client' ? 'server' : 'client');
        });
      }
    }
  });

  it('writes a standalone SVG with one id per arrow, and an HTML page that needs no network', () => {
    const t = golden('resumption');
    const svg = sequenceSvg(t, { idPrefix: 'x-' });
    const ids = [...svg.matchAll(/ id="(x-arrow-[^"]+)"/g)].map((m) => m[1]);
    const arrows = sequenceModel(t).handshakes.reduce((n, h) => n + h.arrows.length, 0);
    expect(ids).toHaveLength(arrows);
    expect(new Set(ids).size).toBe(ids.length);
    expect(svg).toContain('{EncryptedExtensions}');
    const html = sequenceHtml(t);
    expect(html).toContain('<svg');
    const external = [...html.matchAll(/(?:src|href)="([^"]+)"|url\((?!#)([^)]+)\)/g)];
    expect(external).toEqual([]);
    expect(html).not.toMatch(/<script/);
  });
});
