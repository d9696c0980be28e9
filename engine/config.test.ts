import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../pki/generate.js';
import { pemToDerList } from '../pki/pem.js';
import { parseLeafOnly } from './config.js';

describe('parseLeafOnly (rejectUnauthorized: false)', () => {
  it("gives the leaf's key, parsing each distinct leaf once", async () => {
    const { certPem } = await generateSelfSigned({ keyType: 'ed25519' });
    const chain = pemToDerList(certPem);
    const first = parseLeafOnly(chain, new Date());
    const again = parseLeafOnly([new Uint8Array(chain[0] as Uint8Array)], new Date());
    expect(first.ok && again.ok).toBe(true);
    if (first.ok && again.ok) {
      expect(again.leafSpki).toBe(first.leafSpki);
      expect(first.leafSpki.length).toBe(44); // an Ed25519 SubjectPublicKeyInfo
    }
  });

  it('refuses an empty chain and a leaf that does not parse', () => {
    const empty = parseLeafOnly([], new Date());
    expect(empty.ok || empty.error.reason).toBe('EmptyChain');
    const garbage = parseLeafOnly([Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)], new Date());
    expect(garbage.ok || [garbage.error.alert, garbage.error.reason]).toEqual(['bad_certificate', 'BadCertificateEncoding']);
  });
});
