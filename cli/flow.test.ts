import { beforeAll, describe, expect, it } from 'vitest';
import { makeIdentity, makePair, type TestIdentity } from '../engine/testing/pair.js';
import { NamedGroup } from '../wire/types.js';
import { flowLines, messageNames, renderFlow } from './flow.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

describe('the numbered flow built from a client trace', () => {
  it('numbers a full handshake 1-5 and a resumption 7-11, with the skipped authentication shown', async () => {
    const p1 = makePair({ identity });
    await p1.run();
    const full = flowLines(p1.clientTrace, false);
    expect(full.filter((l) => l.name).map((l) => [l.step, l.what, l.direction, l.protection])).toEqual([
      [1, 'ClientHello', 'out', 'plaintext'],
      [2, 'ServerHello', 'in', 'plaintext'],
      [3, 'EncryptedExtensions', 'in', 'encrypted'],
      [4, 'Certificate', 'in', 'encrypted'],
      [4, 'CertificateVerify', 'in', 'encrypted'],
      [4, 'Finished', 'in', 'encrypted'],
      [4, 'Finished', 'out', 'encrypted'],
      [5, 'NewSessionTicket', 'in', 'encrypted'],
      [5, 'NewSessionTicket', 'in', 'encrypted'],
    ]);

    const p2 = makePair({ identity, store: p1.store, env: p1.env, client: { session: p1.sessions[0] } });
    await p2.run();
    expect(p2.client.info?.resumed).toBe(true);
    const resumed = flowLines(p2.clientTrace, true, messageNames(p1.clientTrace));
    expect(resumed.filter((l) => l.step === 10).map((l) => `${l.what}:${l.protection}`)).toEqual([
      'Certificate:skipped',
      'CertificateVerify:skipped',
      'Finished:encrypted',
      'Finished:encrypted',
    ]);
    expect(resumed.find((l) => l.step === 7)?.detail).toMatch(
      /key_share X25519MLKEM768, x25519, pre_shared_key \(1 ticket, binder\), psk_dhe_ke/,
    );
    expect(resumed.find((l) => l.step === 8)?.detail).toBe('pre_shared_key (ticket 0 accepted), key_share X25519MLKEM768');
    expect(renderFlow(resumed).join('\n')).toMatch(/10\. Finished only/);
  });

  it('shows a HelloRetryRequest and the second ClientHello in step 2', async () => {
    const p = makePair({
      identity,
      client: { groups: [NamedGroup.x25519, NamedGroup.secp256r1], keyShareGroups: [NamedGroup.x25519] },
      server: { groups: [NamedGroup.secp256r1] },
    });
    await p.run();
    const step2 = flowLines(p.clientTrace, false).filter((l) => l.step === 2 && l.name);
    expect(step2.map((l) => `${l.what}: ${l.detail}`)).toEqual([
      'HelloRetryRequest: asks for a secp256r1 key_share',
      'ClientHello: key_share secp256r1',
      'ServerHello: key_share secp256r1',
    ]);
  });
});
