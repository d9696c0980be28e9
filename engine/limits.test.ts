/**
 * Size and flood limits end to end through the engine: the largest
 * ClientHellos are accepted, a length beyond any legal one is decode_error,
 * and limits from the configuration reach the record layer.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { SUPPORTED_SIGNATURE_SCHEMES } from '../crypto/signature.js';
import { recordHeader } from '../record/framing.js';
import { NamedGroup } from '../wire/types.js';
import { makeIdentity, makePair, type TestIdentity } from './testing/pair.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

/** 32,715 signature schemes as tlsfuzzer's "tolerance 32715 methods" probe builds them: unallocated codes, then real ones. */
function manySchemes(n: number): number[] {
  const real = [...SUPPORTED_SIGNATURE_SCHEMES];
  const out: number[] = [];
  for (let hi = 10; out.length < n - real.length; hi++) {
    for (let lo = 10; lo < 256 && out.length < n - real.length; lo++) out.push((hi << 8) | lo);
  }
  return [...out, ...real];
}

describe('handshake message sizes', () => {
  it('completes a handshake whose ClientHello carries 32,715 signature schemes (more than 65,540 bytes)', async () => {
    // One x25519 share, as tlsfuzzer sends one small share: with a hybrid share too the extensions would pass 65535 bytes.
    const p = makePair({
      identity,
      client: { signatureSchemes: manySchemes(32715), groups: [NamedGroup.x25519], keyShareGroups: [NamedGroup.x25519] },
    });
    let helloLength = 0;
    p.server.on('trace', (e) => {
      if (e.kind === 'message' && e.direction === 'in' && e.name === 'client_hello') helloLength = e.raw.length;
    });
    await p.run();
    expect(p.server.error).toBeUndefined();
    expect(p.client.state).toBe('connected');
    expect(p.server.state).toBe('connected');
    expect(helloLength).toBeGreaterThan(65540);
  });

  it('refuses a ClientHello announcing more than any legal ClientHello (131,396-byte body) with decode_error', async () => {
    const p = makePair({ identity });
    const header = Uint8Array.of(1, 0x02, 0x01, 0x45); // 131,397
    await p.server.receive(concat(recordHeader(22, 0x0301, header.length), header));
    await p.run();
    expect(p.server.error).toMatchObject({ alert: 'decode_error', reason: 'HandshakeMessageTooLarge' });
    expect(p.client.error).toMatchObject({ alert: 'decode_error', remote: true });
  });
});

describe('limits from the configuration reach the record layer', () => {
  it('refuses the third empty record in a row when limits.maxEmptyRecords is 2', async () => {
    const p = makePair({ identity, server: { limits: { maxEmptyRecords: 2 } } });
    await p.run();
    await p.client.write(new Uint8Array(0));
    await p.client.write(new Uint8Array(0));
    await p.run();
    expect(p.server.state).toBe('connected');
    await p.client.write(new Uint8Array(0));
    await p.run();
    expect(p.server.error).toMatchObject({ alert: 'unexpected_message', reason: 'TooManyEmptyRecords' });
    expect(p.client.error).toMatchObject({ alert: 'unexpected_message', remote: true });
  });

  it('refuses a ClientHello larger than limits.maxHandshakeMessage with decode_error', async () => {
    const p = makePair({ identity, server: { limits: { maxHandshakeMessage: 100 } } });
    await p.run();
    expect(p.server.error).toMatchObject({ alert: 'decode_error', reason: 'HandshakeMessageTooLarge' });
  });

  it('refuses a ClientHello cut into more records than limits.maxHandshakeRecords allows', async () => {
    const p = makePair({
      identity,
      server: { limits: { maxHandshakeRecords: 3 } },
      // Re-frame the first flight (the ClientHello) into 50-byte records.
      tamper: (dir, bytes, index) => {
        if (dir !== 'toServer' || index !== 0) return [bytes];
        const body = bytes.subarray(5);
        const out: Uint8Array[] = [];
        for (let o = 0; o < body.length; o += 50) {
          const f = body.subarray(o, o + 50);
          out.push(concat(recordHeader(22, 0x0301, f.length), f));
        }
        return [concat(...out)];
      },
    });
    await p.run();
    expect(p.server.error).toMatchObject({ alert: 'unexpected_message', reason: 'TooManyHandshakeRecords' });
  });
});
