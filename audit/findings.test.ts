import { describe, expect, it } from 'vitest';
import { applyProfile, citation, countVerdicts, exitStatus, type FindingDraft, verdictUnder } from './findings.js';

const base: FindingDraft = {
  id: 'psk-modes.psk-ke-only',
  check: 'psk-modes',
  title: 'A valid ticket offered with psk_ke only',
  rfcVerdict: 'warn',
  rfc: { section: '4.2.9', keyword: 'policy', text: 'psk_ke MAY be selected; tlschart never resumes it.' },
  policy: { rule: 'tlschart never resumes a psk_ke-only offer', violated: true },
  expected: { summary: 'a full handshake' },
  observed: { summary: 'resumed' },
  measured: {},
  traces: [],
  reason: 'resumed',
};

describe('the findings model', () => {
  it('keeps the RFC verdict under the rfc profile', () => {
    expect(verdictUnder(base, 'rfc')).toBe('warn');
  });

  it('fails a finding whose policy the peer does not keep under the strict profile', () => {
    expect(verdictUnder(base, 'strict')).toBe('fail');
    expect(verdictUnder({ ...base, policy: { rule: 'x', violated: false } }, 'strict')).toBe('warn');
  });

  it('never turns an inconclusive finding into a failure', () => {
    expect(verdictUnder({ ...base, rfcVerdict: 'inconclusive' }, 'strict')).toBe('inconclusive');
  });

  it('keeps both verdicts in the finding', () => {
    const f = applyProfile(base, 'strict');
    expect(f).toMatchObject({ verdict: 'fail', rfcVerdict: 'warn', id: base.id });
  });

  it('exits 0 without a failing finding, 1 with one, 2 when the audit itself was inconclusive', () => {
    const pass = applyProfile({ ...base, rfcVerdict: 'pass', policy: { rule: 'x', violated: false } }, 'rfc');
    const fail = applyProfile(base, 'strict');
    expect(exitStatus({ inconclusive: null, findings: [pass] })).toBe(0);
    expect(exitStatus({ inconclusive: null, findings: [pass, fail] })).toBe(1);
    expect(exitStatus({ inconclusive: 'unreachable', findings: [pass] })).toBe(2);
  });

  it('counts verdicts', () => {
    expect(countVerdicts([{ verdict: 'pass' }, { verdict: 'fail' }, { verdict: 'pass' }])).toEqual({
      pass: 2,
      fail: 1,
      warn: 0,
      info: 0,
      inconclusive: 0,
    });
  });

  it('cites the section with its keyword, or as policy', () => {
    expect(citation(base.rfc)).toBe('RFC 8446 §4.2.9, tlschart policy');
    expect(citation({ section: '4.3.8', keyword: 'MUST', text: '', document: 'RFC 9846' })).toBe('RFC 9846 §4.3.8 MUST');
  });
});
