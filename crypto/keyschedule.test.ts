import { createHash, createHmac, createPrivateKey } from 'node:crypto';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { s2, s3 } from '../vectors/rfc8448.js';
import { concat, fromHex, toHex, utf8 } from './bytes.js';
import {
  computeBinder,
  deriveSecret,
  EarlySecret,
  exportKeyingMaterial,
  finishedKey,
  finishedVerifyData,
  hkdfExpandLabel,
  nextApplicationTrafficSecret,
  obfuscatedTicketAge,
  resumptionPsk,
  ticketAgeFromObfuscated,
  trafficKeys,
} from './keyschedule.js';
import type { CryptoProvider } from './provider.js';
import { type HashName, type SuiteInfo, suiteByName } from './suites.js';
import { PROVIDER_CASES } from './testing/providers.js';

describe.each(PROVIDER_CASES)('the TLS 1.3 key schedule on the $name provider', ({ provider }) => {
  function suite(name: string): SuiteInfo {
    const s = suiteByName(name);
    if (s === undefined) throw new Error(`no suite ${name}`);
    return s;
  }
  const AES128 = suite('TLS_AES_128_GCM_SHA256');
  const AES256 = suite('TLS_AES_256_GCM_SHA384');
  const CHACHA = suite('TLS_CHACHA20_POLY1305_SHA256');
  const ALL = [AES128, AES256, CHACHA];

  const hlen = (h: HashName) => (h === 'sha256' ? 32 : 48);
  const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  /** HKDF-Expand (RFC 5869 §2.3) written out with node:crypto HMAC: an independent reference. */
  function refExpand(h: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    const out: Uint8Array[] = [];
    let t = new Uint8Array(0);
    for (let i = 1; out.reduce((n, b) => n + b.length, 0) < length; i++) {
      t = new Uint8Array(
        createHmac(h, prk)
          .update(concat(t, info, new Uint8Array([i])))
          .digest(),
      );
      out.push(t);
    }
    return concat(...out).subarray(0, length);
  }

  /** HkdfLabel of RFC 8446 §7.1, laid out by hand. */
  function refLabel(label: string, context: Uint8Array, length: number): Uint8Array {
    const l = utf8(`tls13 ${label}`);
    return concat(new Uint8Array([length >> 8, length & 0xff, l.length]), l, new Uint8Array([context.length]), context);
  }

  /** A provider that records every HKDF-Expand info it is asked for, and otherwise is the real one. */
  function recordingProvider(): { p: CryptoProvider; infos: string[] } {
    const infos: string[] = [];
    const p: CryptoProvider = {
      ...provider,
      name: 'recording',
      hkdfExpand: (h, prk, info, length) => {
        infos.push(toHex(info));
        return provider.hkdfExpand(h, prk, info, length);
      },
    };
    return { p, infos };
  }

  describe('hkdfExpandLabel (RFC 8446 §7.1)', () => {
    it('passes the HkdfLabel struct with the "tls13 " prefix to HKDF-Expand', () => {
      const { p, infos } = recordingProvider();
      hkdfExpandLabel('sha256', bytes(32, 7), 'key', new Uint8Array(0), 16, p);
      // RFC 8448 prints this as: key info (13 octets): 00 10 09 74 6c 73 31 33 20 6b 65 79 00
      expect(infos).toEqual(['001009746c733133206b657900']);
    });

    it('puts the context after its one-byte length', () => {
      const { p, infos } = recordingProvider();
      const ctx = fromHex('0000');
      hkdfExpandLabel('sha256', bytes(32, 1), 'resumption', ctx, 32, p);
      expect(infos).toEqual([toHex(refLabel('resumption', ctx, 32))]);
    });

    for (const h of ['sha256', 'sha384'] as const) {
      it(`matches an HMAC-written HKDF-Expand over several blocks with ${h}`, () => {
        const secret = bytes(hlen(h), 0x5a);
        const ctx = utf8('some context');
        const got = hkdfExpandLabel(h, secret, 'c hs traffic', ctx, 100, provider);
        expect(toHex(got)).toBe(toHex(refExpand(h, secret, refLabel('c hs traffic', ctx, 100), 100)));
      });
    }

    it('rejects a secret that is not Hash.length bytes', () => {
      expect(() => hkdfExpandLabel('sha256', bytes(31, 0), 'key', new Uint8Array(0), 16, provider)).toThrow(RangeError);
      expect(() => hkdfExpandLabel('sha384', bytes(32, 0), 'key', new Uint8Array(0), 16, provider)).toThrow(RangeError);
    });

    it('rejects a context longer than 255 bytes', () => {
      expect(() => hkdfExpandLabel('sha256', bytes(32, 0), 'x', bytes(256, 0), 16, provider)).toThrow(/context/);
    });

    it('rejects lengths outside 1..255*Hash.length', () => {
      expect(() => hkdfExpandLabel('sha256', bytes(32, 0), 'x', new Uint8Array(0), 0, provider)).toThrow(RangeError);
      expect(() => hkdfExpandLabel('sha256', bytes(32, 0), 'x', new Uint8Array(0), 255 * 32 + 1, provider)).toThrow(RangeError);
      expect(() => hkdfExpandLabel('sha256', bytes(32, 0), 'x', new Uint8Array(0), 1.5, provider)).toThrow(RangeError);
    });

    it('rejects an empty label and a label that makes HkdfLabel.label longer than 255 bytes', () => {
      expect(() => hkdfExpandLabel('sha256', bytes(32, 0), '', new Uint8Array(0), 16, provider)).toThrow(/7\.\.255/);
      expect(() => hkdfExpandLabel('sha256', bytes(32, 0), 'a'.repeat(250), new Uint8Array(0), 16, provider)).toThrow(/7\.\.255/);
      expect(hkdfExpandLabel('sha256', bytes(32, 0), 'a'.repeat(249), new Uint8Array(0), 16, provider)).toHaveLength(16);
    });

    it('rejects an unknown hash name', () => {
      expect(() => hkdfExpandLabel('md5' as HashName, bytes(32, 0), 'x', new Uint8Array(0), 16, provider)).toThrow(TypeError);
    });
  });

  describe('deriveSecret (RFC 8446 §7.1)', () => {
    it('is HKDF-Expand-Label with the transcript hash as context and Hash.length output', () => {
      const secret = bytes(48, 3);
      const th = bytes(48, 9);
      expect(toHex(deriveSecret('sha384', secret, 'exp master', th, provider))).toBe(
        toHex(refExpand('sha384', secret, refLabel('exp master', th, 48), 48)),
      );
    });

    it('rejects a transcript hash of the wrong length', () => {
      expect(() => deriveSecret('sha256', bytes(32, 0), 'derived', bytes(48, 0), provider)).toThrow(RangeError);
    });
  });

  describe('key-schedule stages', () => {
    it('cannot be constructed except from the previous stage', () => {
      const Ctor = EarlySecret as unknown as new (...a: unknown[]) => EarlySecret;
      expect(() => new Ctor(Symbol('forged'), AES128, bytes(32, 0), provider)).toThrow(TypeError);
      const hs = EarlySecret.create(AES128, undefined, provider).withSharedSecret(bytes(32, 1));
      const HsCtor = hs.constructor as new (...a: unknown[]) => unknown;
      expect(() => new HsCtor(undefined, AES128, bytes(32, 0), provider)).toThrow(TypeError);
    });

    it('starts from HKDF-Extract(0, 0) without a PSK and HKDF-Extract(0, PSK) with one', () => {
      for (const s of ALL) {
        const zeros = bytes(s.hashLen, 0);
        const noPsk = EarlySecret.create(s, undefined, provider);
        expect(toHex(noPsk.secret)).toBe(createHmac(s.hash, zeros).update(zeros).digest('hex'));
        const psk = bytes(s.hashLen, 0x42);
        expect(toHex(EarlySecret.create(s, psk, provider).secret)).toBe(createHmac(s.hash, zeros).update(psk).digest('hex'));
      }
    });

    it('rejects a PSK whose length is not the suite hash length', () => {
      expect(() => EarlySecret.create(AES128, bytes(48, 1), provider)).toThrow(RangeError);
      expect(() => EarlySecret.create(AES256, bytes(32, 1), provider)).toThrow(RangeError);
    });

    it('rejects an empty (EC)DHE shared secret', () => {
      expect(() => EarlySecret.create(AES128, undefined, provider).withSharedSecret(new Uint8Array(0))).toThrow(RangeError);
    });

    it('keeps every secret out of JSON', () => {
      const es = EarlySecret.create(AES256, bytes(48, 0x11), provider);
      const hs = es.withSharedSecret(bytes(48, 0x22));
      const ms = hs.toMasterSecret();
      expect(JSON.parse(JSON.stringify({ es, hs, ms }))).toEqual({
        es: { stage: 'EarlySecret', suite: 'TLS_AES_256_GCM_SHA384' },
        hs: { stage: 'HandshakeSecret', suite: 'TLS_AES_256_GCM_SHA384' },
        ms: { stage: 'MasterSecret', suite: 'TLS_AES_256_GCM_SHA384' },
      });
    });

    it('derives the same secrets through any provider that computes the same primitives', () => {
      const { p, infos } = recordingProvider();
      const th = bytes(32, 4);
      const viaRecorder = EarlySecret.create(CHACHA, undefined, p).withSharedSecret(bytes(32, 5)).toMasterSecret();
      const viaDefault = EarlySecret.create(CHACHA, undefined, provider).withSharedSecret(bytes(32, 5)).toMasterSecret();
      expect(toHex(viaRecorder.clientApplicationTrafficSecret(th))).toBe(toHex(viaDefault.clientApplicationTrafficSecret(th)));
      // both "derived" steps plus "c ap traffic" went through the recording provider
      expect(infos.length).toBe(3);
    });
  });

  describe('trafficKeys (RFC 8446 §7.3)', () => {
    for (const s of ALL) {
      it(`gives a ${s.keyLen}-byte key and a 12-byte IV for ${s.name}`, () => {
        const { key, iv } = trafficKeys(s, bytes(s.hashLen, 0x33), provider);
        expect(key).toHaveLength(s.keyLen);
        expect(iv).toHaveLength(12);
        expect(toHex(key)).toBe(toHex(refExpand(s.hash, bytes(s.hashLen, 0x33), refLabel('key', new Uint8Array(0), s.keyLen), s.keyLen)));
        expect(toHex(iv)).toBe(toHex(refExpand(s.hash, bytes(s.hashLen, 0x33), refLabel('iv', new Uint8Array(0), 12), 12)));
      });
    }

    it('gives AES-128 16 bytes, AES-256 and ChaCha20 32 bytes', () => {
      expect([AES128, AES256, CHACHA].map((s) => trafficKeys(s, bytes(s.hashLen, 1), provider).key.length)).toEqual([16, 32, 32]);
    });
  });

  describe('nextApplicationTrafficSecret (RFC 8446 §7.2)', () => {
    it('expands "traffic upd" with an empty context to Hash.length bytes', () => {
      for (const s of ALL) {
        const cur = bytes(s.hashLen, 0x77);
        const next = nextApplicationTrafficSecret(s, cur, provider);
        expect(toHex(next)).toBe(toHex(refExpand(s.hash, cur, refLabel('traffic upd', new Uint8Array(0), s.hashLen), s.hashLen)));
        expect(toHex(nextApplicationTrafficSecret(s, next, provider))).not.toBe(toHex(next));
      }
    });
  });

  describe('Finished and binders (RFC 8446 §4.4.4, §4.2.11.2)', () => {
    it('computes verify_data as HMAC(finished_key, transcript hash)', () => {
      for (const s of ALL) {
        const base = bytes(s.hashLen, 0x10);
        const th = bytes(s.hashLen, 0x20);
        const fk = finishedKey(s, base, provider);
        expect(toHex(fk)).toBe(toHex(refExpand(s.hash, base, refLabel('finished', new Uint8Array(0), s.hashLen), s.hashLen)));
        expect(toHex(finishedVerifyData(s, base, th, provider))).toBe(createHmac(s.hash, fk).update(th).digest('hex'));
      }
    });

    it('computes a binder exactly like a Finished keyed by the binder key', () => {
      const es = EarlySecret.create(AES128, bytes(32, 0x61), provider);
      const binderKey = es.resumptionBinderKey();
      const th = bytes(32, 0x62);
      expect(toHex(computeBinder(AES128, binderKey, th, provider))).toBe(toHex(finishedVerifyData(AES128, binderKey, th, provider)));
    });

    it('rejects a transcript hash whose length does not match the suite', () => {
      expect(() => finishedVerifyData(AES128, bytes(32, 0), bytes(48, 0), provider)).toThrow(RangeError);
      expect(() => computeBinder(AES256, bytes(48, 0), bytes(32, 0), provider)).toThrow(RangeError);
    });
  });

  describe('resumptionPsk (RFC 8446 §4.6.1)', () => {
    it('expands "resumption" with the ticket nonce as context', () => {
      const rms = bytes(48, 0x44);
      const nonce = fromHex('0102');
      expect(toHex(resumptionPsk(AES256, rms, nonce, provider))).toBe(
        toHex(refExpand('sha384', rms, refLabel('resumption', nonce, 48), 48)),
      );
    });

    it('gives different PSKs for different nonces', () => {
      const rms = bytes(32, 0x44);
      expect(toHex(resumptionPsk(AES128, rms, fromHex('00'), provider))).not.toBe(
        toHex(resumptionPsk(AES128, rms, fromHex('01'), provider)),
      );
    });
  });

  describe('obfuscated ticket age (RFC 8446 §4.2.11.1)', () => {
    it('adds ticket_age_add modulo 2^32', () => {
      expect(obfuscatedTicketAge(6, 0xfad6aac5)).toBe(0xfad6aacb);
      expect(obfuscatedTicketAge(10, 0xffffffff)).toBe(9);
      expect(obfuscatedTicketAge(2 ** 40 + 3, 0)).toBe(3);
    });

    it('is undone by ticketAgeFromObfuscated', () => {
      expect(ticketAgeFromObfuscated(0xfad6aacb, 0xfad6aac5)).toBe(6);
      expect(ticketAgeFromObfuscated(9, 0xffffffff)).toBe(10);
    });

    it('rejects negative ages and add values outside uint32', () => {
      expect(() => obfuscatedTicketAge(-1, 0)).toThrow(RangeError);
      expect(() => obfuscatedTicketAge(1, 2 ** 32)).toThrow(RangeError);
      expect(() => ticketAgeFromObfuscated(2 ** 32, 0)).toThrow(RangeError);
    });
  });

  describe('exportKeyingMaterial (RFC 8446 §7.5)', () => {
    it('follows HKDF-Expand-Label(Derive-Secret(S, label, ""), "exporter", Hash(context), L)', () => {
      const ems = bytes(32, 0x55);
      const emptyHash = fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      const inner = refExpand('sha256', ems, refLabel('EXPORTER-test', emptyHash, 32), 32);
      const ctxHash = new Uint8Array(createHash('sha256').update('ctx').digest());
      const expected = refExpand('sha256', inner, refLabel('exporter', ctxHash, 20), 20);
      expect(toHex(exportKeyingMaterial(AES128, ems, 'EXPORTER-test', utf8('ctx'), 20, provider))).toBe(toHex(expected));
    });

    it('treats an absent context as an empty one', () => {
      const ems = bytes(48, 0x56);
      expect(toHex(exportKeyingMaterial(AES256, ems, 'x', undefined, 32, provider))).toBe(
        toHex(exportKeyingMaterial(AES256, ems, 'x', new Uint8Array(0), 32, provider)),
      );
      expect(toHex(exportKeyingMaterial(AES256, ems, 'x', undefined, 32, provider))).not.toBe(
        toHex(exportKeyingMaterial(AES256, ems, 'x', new Uint8Array([0]), 32, provider)),
      );
    });
  });

  /** The RFC 8448 §2 server key and the certificate from the §3 Certificate message, as PEM for node:tls. */
  function rfc8448ServerPem(): { key: string; cert: string } {
    const b64u = (hex: string) => Buffer.from(fromHex(hex)).toString('base64url');
    const jwk = {
      kty: 'RSA',
      n: b64u(s2.rsaModulus),
      e: b64u(s2.rsaPublicExponent),
      d: b64u(s2.rsaPrivateExponent),
      p: b64u(s2.rsaPrime1),
      q: b64u(s2.rsaPrime2),
      dp: b64u(s2.rsaExponent1),
      dq: b64u(s2.rsaExponent2),
      qi: b64u(s2.rsaCoefficient),
    };
    const key = createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    const msg = fromHex(s3.certificate);
    const der = msg.subarray(11, 11 + (((msg[8] as number) << 16) | ((msg[9] as number) << 8) | (msg[10] as number)));
    const lines =
      Buffer.from(der)
        .toString('base64')
        .match(/.{1,64}/g) ?? [];
    return { key, cert: ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----', ''].join('\n') };
  }

  /** Run one TLS 1.3 handshake between node:tls peers and return the client's key log and exported values. */
  function nodeTlsExport(suiteName: string): Promise<{ exporterSecret: Uint8Array; withContext: Uint8Array; withoutContext: Uint8Array }> {
    const { key, cert } = rfc8448ServerPem();
    // The RFC 8448 key is 1024-bit RSA: allowed here only through SECLEVEL=0.
    const ciphers = `${suiteName}:DEFAULT@SECLEVEL=0`;
    return new Promise((resolve, reject) => {
      const server = createServer({ key, cert, minVersion: 'TLSv1.3', ciphers }, (socket) => socket.end());
      server.on('tlsClientError', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') return reject(new Error('no port'));
        const keylog: string[] = [];
        let exported: { withContext: Uint8Array; withoutContext: Uint8Array } | undefined;
        const client = connect({ host: '127.0.0.1', port: address.port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ciphers }, () => {
          exported = {
            withContext: new Uint8Array(client.exportKeyingMaterial(42, 'EXPORTER-tlschart', Buffer.from('context'))),
            // No context at all (node passes use_context = 0 to OpenSSL when it is undefined).
            withoutContext: new Uint8Array(client.exportKeyingMaterial(32, 'EXPORTER-tlschart', undefined as unknown as Buffer)),
          };
        });
        client.on('keylog', (line) => keylog.push(line.toString().trim()));
        client.on('error', reject);
        client.on('close', () => {
          server.close();
          const line = keylog.find((l) => l.startsWith('EXPORTER_SECRET '));
          if (exported === undefined || line === undefined) return reject(new Error('handshake did not complete'));
          resolve({ exporterSecret: fromHex(line.split(' ')[2] ?? ''), ...exported });
        });
      });
    });
  }

  describe('exportKeyingMaterial agrees with OpenSSL through node:tls (RFC 8446 §7.5)', () => {
    for (const s of ALL) {
      it(`gives what node's exportKeyingMaterial gives over ${s.name}`, async () => {
        const got = await nodeTlsExport(s.name);
        expect(got.exporterSecret).toHaveLength(s.hashLen);
        expect(toHex(exportKeyingMaterial(s, got.exporterSecret, 'EXPORTER-tlschart', utf8('context'), 42, provider))).toBe(
          toHex(got.withContext),
        );
        expect(toHex(exportKeyingMaterial(s, got.exporterSecret, 'EXPORTER-tlschart', undefined, 32, provider))).toBe(
          toHex(got.withoutContext),
        );
      });
    }
  });
});
