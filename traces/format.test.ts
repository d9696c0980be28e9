/**
 * The trace format: every golden trace validates against trace.schema.json
 * (ajv, draft-07), parseTrace agrees with the schema on broken documents, and
 * the metadata says who recorded what.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseTrace, TRACE_FORMAT, TRACE_VERSION, tlschartVersion } from './format.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const schema = JSON.parse(readFileSync(here('./trace.schema.json'), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, validateFormats: false });
const validate = ajv.compile(schema);
const goldens = readdirSync(here('./golden/')).filter((f) => f.endsWith('.json'));
const load = (f: string) => JSON.parse(readFileSync(here(`./golden/${f}`), 'utf8')) as Record<string, unknown>;

describe('trace format', () => {
  it('has golden traces to check', () => {
    expect(goldens.length).toBeGreaterThanOrEqual(10);
  });

  for (const f of goldens) {
    it(`${f} validates against the JSON Schema and parses`, () => {
      const doc = load(f);
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      expect(parseTrace(JSON.stringify(doc)).ok).toBe(true);
    });
  }

  it('records the tlschart version from package.json, the role, the peer and an ISO time', () => {
    const pkg = JSON.parse(readFileSync(here('../package.json'), 'utf8')) as { version: string };
    expect(tlschartVersion()).toBe(pkg.version);
    const doc = load('resumption.json') as { format: string; version: number; meta: Record<string, string> };
    expect(doc.format).toBe(TRACE_FORMAT);
    expect(doc.version).toBe(TRACE_VERSION);
    expect(doc.meta).toMatchObject({ tlschart: pkg.version, role: 'pair', peer: 'in-memory', time: '2026-01-01T00:00:00.000Z' });
  });

  /** What `tlschart trace import` adds (optional: recorded traces have none of it). */
  const captured = {
    client: '127.0.0.1:50000',
    server: '127.0.0.1:443',
    packets: { first: 1, last: 20 },
    clientRandom: 'ab'.repeat(32),
    keys: 'all',
    resumes: { handshake: 0, label: 'connection 1' },
    notes: [],
  };
  it('accepts the capture metadata of an imported trace, in the schema and in parseTrace alike', () => {
    const doc = load('full-handshake.json') as any;
    doc.meta.source = 'import';
    doc.meta.capture = { file: 'c.pcapng', format: 'pcapng', packets: 20, keylog: null };
    doc.handshakes[0].capture = captured;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(parseTrace(JSON.stringify(doc)).ok).toBe(true);
  });

  const broken: Array<[string, (d: any) => void]> = [
    ['a wrong format name', (d) => (d.format = 'pcap')],
    ['another version', (d) => (d.version = 2)],
    ['no handshakes', (d) => (d.handshakes = [])],
    ['a side without role', (d) => delete d.handshakes[0].sides[0].role],
    ['a step with a bad direction', (d) => (d.handshakes[0].sides[0].steps[0].direction = 'sideways')],
    ['a record whose hex is not hex', (d) => (d.handshakes[0].sides[0].steps[0].records[0].hex = 'zz')],
    ['a handshake step without its message', (d) => delete d.handshakes[0].sides[0].steps[0].message],
    ['a guard outcome that is not a boolean', (d) => (d.handshakes[0].sides[1].steps[0].guards[0].result = 'yes')],
    ['a source other than import', (d) => (d.meta.source = 'recorder')],
    ['capture metadata without its notes', (d) => (d.handshakes[0].capture = { ...captured, notes: undefined })],
    ['capture metadata with an unknown key status', (d) => (d.handshakes[0].capture = { ...captured, keys: 'maybe' })],
  ];
  for (const [what, breakIt] of broken) {
    it(`rejects ${what}, in the schema and in parseTrace alike`, () => {
      const doc = load('full-handshake.json');
      breakIt(doc);
      expect(validate(doc)).toBe(false);
      const parsed = parseTrace(JSON.stringify(doc));
      expect(parsed.ok).toBe(false);
    });
  }

  it('says why a file is not a trace', () => {
    expect(parseTrace('{not json')).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(parseTrace('[]')).toMatchObject({ ok: false, error: expect.stringMatching(/not a JSON object/) });
  });

  it('reads JSON Lines (one trace per line, as serve --trace streams them) as one trace with every handshake in order', () => {
    const a = load('full-handshake.json') as { handshakes: Array<{ label: string }> };
    const b = load('resumption.json') as { handshakes: Array<{ label: string }> };
    const parsed = parseTrace(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.trace.handshakes.map((h) => h.label)).toEqual([...a.handshakes, ...b.handshakes].map((h) => h.label));
    expect(parsed.trace.meta).toEqual((a as unknown as { meta: unknown }).meta);
  });

  it('names the line of a JSON Lines file that is not a trace', () => {
    const a = JSON.stringify(load('full-handshake.json'));
    expect(parseTrace(`${a}\n{"format":"pcap"}\n`)).toMatchObject({ ok: false, error: expect.stringMatching(/^line 2: format is not/) });
    expect(parseTrace(`${a}\n${a.slice(0, 40)}\n`)).toMatchObject({ ok: false, error: expect.stringMatching(/^line 2: not JSON/) });
  });
});
