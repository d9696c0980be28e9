/**
 * RFC 8448 Sections 2 to 5 reproduced value by value with tlschart's crypto:
 * every secret, key, IV, Finished, binder and protected record is recomputed
 * from the private keys and the handshake messages and compared with the
 * transcribed value in rfc8448.ts. Each test names the RFC step it checks.
 * Everything runs on both crypto providers (@noble and node:crypto): each
 * must reproduce every value, so they agree value for value.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../crypto/bytes.js';
import {
  computeBinder,
  deriveSecret,
  EarlySecret,
  finishedKey,
  finishedVerifyData,
  obfuscatedTicketAge,
  resumptionPsk,
  ticketAgeFromObfuscated,
  trafficKeys,
} from '../crypto/keyschedule.js';
import type { CryptoProvider, KeyPair } from '../crypto/provider.js';
import { certificateVerifyInput } from '../crypto/signature.js';
import { type SuiteInfo, suiteByName } from '../crypto/suites.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { messageHashMessage, transcriptHash } from '../crypto/transcript.js';
import { verifyBinder, verifyCertificateVerify, verifyFinished } from '../crypto/witness.js';
import { HRR_RANDOM_HEX, NamedGroup, SignatureScheme } from '../wire/types.js';
import { emptyHashSha256, s2, s3, s4, s5 } from './rfc8448.js';

describe.each(PROVIDER_CASES)('RFC 8448 on the $name provider', ({ provider }) => {
  const suite = suiteByName('TLS_AES_128_GCM_SHA256') as SuiteInfo;
  const h = (hex: string) => fromHex(hex);
  const hx = (b: Uint8Array) => toHex(b);
  const norm = (hex: string) => hex.replace(/\s+/g, '');
  const th = (...messages: string[]) => transcriptHash('sha256', messages.map(h), provider);

  /**
   * The key pair `p` draws from random bytes chosen to give RFC 8448's private
   * key: x25519 takes 32 random bytes as they are; a NIST scalar is
   * (seed mod (n - 1)) + 1 from a 48-byte seed, so the seed is d - 1.
   */
  function keyPairFrom(p: CryptoProvider, group: number, privHex: string): KeyPair {
    const d = h(privHex);
    let random = d;
    if (group === NamedGroup.secp256r1) {
      const dMinus1 = BigInt(`0x${norm(privHex)}`) - 1n;
      random = h(dMinus1.toString(16).padStart(96, '0'));
    }
    return p.generateKeyPair(group, (n) => {
      if (n !== random.length) throw new Error(`expected a request for ${random.length} random bytes, got ${n}`);
      return random;
    });
  }

  function shared(group: number, priv: string, pub: string): Uint8Array {
    const r = provider.completeShare(keyPairFrom(provider, group, priv), h(pub));
    if (!r.ok) throw r.error;
    return r.value;
  }

  const publicKeyOf = (group: number, priv: string) => keyPairFrom(provider, group, priv).publicKey;

  /** Per-record nonce (RFC 8446 §5.3): the IV XORed with the 64-bit sequence number, left-padded. */
  function nonce(iv: Uint8Array, seq: number): Uint8Array {
    const n = Uint8Array.from(iv);
    for (let i = 0; i < 8; i++) n[n.length - 1 - i] = (n[n.length - 1 - i] as number) ^ (Math.floor(seq / 2 ** (8 * i)) & 0xff);
    return n;
  }

  /** Open a TLSCiphertext record (RFC 8446 §5.2): returns the inner content type and content. */
  function openRecord(keyHex: string, ivHex: string, seq: number, recordHex: string): { type: number; content: Uint8Array } {
    const record = h(recordHex);
    const header = record.subarray(0, 5);
    const inner = provider.aeadOpen(suite.aead, h(keyHex), nonce(h(ivHex), seq), header, record.subarray(5));
    if (inner === undefined) throw new Error('record did not authenticate');
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    return { type: inner[end] as number, content: inner.subarray(0, end) };
  }

  /** Protect content as one record without padding, as RFC 8448 does. */
  function sealRecord(keyHex: string, ivHex: string, seq: number, type: number, contentHex: string): Uint8Array {
    const inner = concat(h(contentHex), new Uint8Array([type]));
    const len = inner.length + 16;
    const header = new Uint8Array([23, 3, 3, len >> 8, len & 0xff]);
    return concat(header, provider.aeadSeal(suite.aead, h(keyHex), nonce(h(ivHex), seq), header, inner));
  }

  /** A record decrypts to the given content and type, and sealing that content gives the record back byte for byte. */
  function expectRecord(keyHex: string, ivHex: string, seq: number, recordHex: string, type: number, contentHex: string): void {
    const opened = openRecord(keyHex, ivHex, seq, recordHex);
    expect(opened.type).toBe(type);
    expect(hx(opened.content)).toBe(norm(contentHex));
    expect(hx(sealRecord(keyHex, ivHex, seq, type, contentHex))).toBe(norm(recordHex));
  }

  function plaintextRecord(type: number, messageHex: string, version = 0x0303): string {
    const m = h(messageHex);
    return hx(concat(new Uint8Array([type, version >> 8, version & 0xff, m.length >> 8, m.length & 0xff]), m));
  }

  /** The DER certificate inside a one-entry Certificate message (RFC 8446 §4.4.2). */
  function certificateDer(certificateMessageHex: string): Uint8Array {
    const m = h(certificateMessageHex);
    const ctxLen = m[4] as number;
    let o = 4 + 1 + ctxLen + 3;
    const len = ((m[o] as number) << 16) | ((m[o + 1] as number) << 8) | (m[o + 2] as number);
    o += 3;
    return m.subarray(o, o + len);
  }

  const spkiOf = (der: Uint8Array) => new Uint8Array(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }));

  const HANDSHAKE = 22;
  const APPLICATION_DATA = 23;
  const ALERT = 21;

  describe('RFC 8448 §2 Private Keys', () => {
    const b64u = (hex: string) => Buffer.from(h(hex)).toString('base64url');
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
    const big = (hex: string) => BigInt(`0x${norm(hex)}`);

    it('modulus = prime1 × prime2, and the CRT exponents and coefficient fit them', () => {
      const [n, e, d, p, q] = [s2.rsaModulus, s2.rsaPublicExponent, s2.rsaPrivateExponent, s2.rsaPrime1, s2.rsaPrime2].map(big) as bigint[];
      expect((p as bigint) * (q as bigint)).toBe(n);
      expect(big(s2.rsaExponent1)).toBe((d as bigint) % ((p as bigint) - 1n));
      expect(big(s2.rsaExponent2)).toBe((d as bigint) % ((q as bigint) - 1n));
      expect((big(s2.rsaCoefficient) * (q as bigint)) % (p as bigint)).toBe(1n);
      // e·d ≡ 1 mod lcm(p-1, q-1) implies it mod (p-1) and (q-1)
      expect(((e as bigint) * (d as bigint)) % ((p as bigint) - 1n)).toBe(1n);
      expect(((e as bigint) * (d as bigint)) % ((q as bigint) - 1n)).toBe(1n);
    });

    it('is the key of the server certificate in the §3 Certificate message', () => {
      const key = createPrivateKey({ key: jwk, format: 'jwk' });
      const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
      expect(hx(spki)).toBe(hx(spkiOf(certificateDer(s3.certificate))));
    });
  });

  describe('RFC 8448 §3 Simple 1-RTT Handshake', () => {
    const early = EarlySecret.create(suite, undefined, provider);
    const ecdhe = shared(NamedGroup.x25519, s3.serverPrivateKey, s3.clientPublicKey);
    const hs = early.withSharedSecret(ecdhe);
    const ms = hs.toMasterSecret();
    const helloHash = th(s3.clientHello, s3.serverHello);
    const cHs = hs.clientHandshakeTrafficSecret(helloHash);
    const sHs = hs.serverHandshakeTrafficSecret(helloHash);
    const serverFinishedHash = th(
      s3.clientHello,
      s3.serverHello,
      s3.encryptedExtensions,
      s3.certificate,
      s3.certificateVerify,
      s3.serverFinished,
    );

    it('{client} create an ephemeral x25519 key pair: public key from the private key', () => {
      expect(hx(publicKeyOf(NamedGroup.x25519, s3.clientPrivateKey))).toBe(norm(s3.clientPublicKey));
    });

    it('{server} create an ephemeral x25519 key pair: public key from the private key', () => {
      expect(hx(publicKeyOf(NamedGroup.x25519, s3.serverPrivateKey))).toBe(norm(s3.serverPublicKey));
    });

    it('{client} send handshake record: the ClientHello record and the key shares inside the hellos', () => {
      expect(plaintextRecord(HANDSHAKE, s3.clientHello, 0x0301)).toBe(norm(s3.clientHelloRecord));
      expect(plaintextRecord(HANDSHAKE, s3.serverHello)).toBe(norm(s3.serverHelloRecord));
      expect(norm(s3.clientHello)).toContain(`001d0020${norm(s3.clientPublicKey)}`);
      expect(norm(s3.serverHello)).toContain(`001d0020${norm(s3.serverPublicKey)}`);
    });

    it('{server} extract secret "handshake": IKM is the x25519 shared secret, the same from both sides', () => {
      expect(hx(ecdhe)).toBe(norm(s3.sharedSecret));
      expect(hx(shared(NamedGroup.x25519, s3.clientPrivateKey, s3.serverPublicKey))).toBe(norm(s3.sharedSecret));
    });

    it('{server} extract secret "early"', () => {
      expect(hx(early.secret)).toBe(norm(s3.earlySecret));
    });

    it('{server} derive secret for handshake "tls13 derived"', () => {
      expect(hx(transcriptHash('sha256', [], provider))).toBe(norm(emptyHashSha256));
      expect(hx(deriveSecret('sha256', early.secret, 'derived', h(emptyHashSha256), provider))).toBe(norm(s3.derivedForHandshake));
    });

    it('{server} extract secret "handshake"', () => {
      expect(hx(hs.secret)).toBe(norm(s3.handshakeSecret));
    });

    it('{server} derive secret "tls13 c hs traffic" over Transcript-Hash(ClientHello, ServerHello)', () => {
      expect(hx(helloHash)).toBe(norm(s3.helloHash));
      expect(hx(cHs)).toBe(norm(s3.clientHandshakeTrafficSecret));
    });

    it('{server} derive secret "tls13 s hs traffic"', () => {
      expect(hx(sHs)).toBe(norm(s3.serverHandshakeTrafficSecret));
    });

    it('{server} derive secret for master "tls13 derived"', () => {
      expect(hx(deriveSecret('sha256', hs.secret, 'derived', h(emptyHashSha256), provider))).toBe(norm(s3.derivedForMaster));
    });

    it('{server} extract secret "master"', () => {
      expect(hx(ms.secret)).toBe(norm(s3.masterSecret));
    });

    it('{server} derive write traffic keys for handshake data: key and iv', () => {
      const k = trafficKeys(suite, sHs, provider);
      expect(hx(k.key)).toBe(norm(s3.serverHandshakeWriteKey));
      expect(hx(k.iv)).toBe(norm(s3.serverHandshakeWriteIv));
    });

    it('{server} derive read traffic keys for handshake data: key and iv (the client handshake write keys)', () => {
      const k = trafficKeys(suite, cHs, provider);
      expect(hx(k.key)).toBe(norm(s3.clientHandshakeWriteKey));
      expect(hx(k.iv)).toBe(norm(s3.clientHandshakeWriteIv));
    });

    it('{server} construct a CertificateVerify handshake message: rsa_pss_rsae_sha256 verifies against the certificate key', () => {
      const cv = h(s3.certificateVerify);
      expect((cv[4] as number) * 256 + (cv[5] as number)).toBe(SignatureScheme.rsa_pss_rsae_sha256);
      const signature = cv.subarray(8);
      expect(signature.length).toBe((cv[6] as number) * 256 + (cv[7] as number));
      const spki = spkiOf(certificateDer(s3.certificate));
      const signedHash = th(s3.clientHello, s3.serverHello, s3.encryptedExtensions, s3.certificate);
      const witness = verifyCertificateVerify(SignatureScheme.rsa_pss_rsae_sha256, spki, 'server', signedHash, signature, provider);
      expect(witness?.role).toBe('server');
      expect(
        provider.verifySignature(SignatureScheme.rsa_pss_rsae_sha256, spki, certificateVerifyInput('server', signedHash), signature),
      ).toBe(true);
      const flipped = Uint8Array.from(signature);
      flipped[17] = (flipped[17] as number) ^ 0x10;
      expect(verifyCertificateVerify(SignatureScheme.rsa_pss_rsae_sha256, spki, 'server', signedHash, flipped, provider)).toBeUndefined();
      expect(verifyCertificateVerify(SignatureScheme.rsa_pss_rsae_sha256, spki, 'client', signedHash, signature, provider)).toBeUndefined();
    });

    it('{server} calculate finished "tls13 finished": expanded (finished_key) and finished (verify_data)', () => {
      const hash = th(s3.clientHello, s3.serverHello, s3.encryptedExtensions, s3.certificate, s3.certificateVerify);
      expect(hx(finishedKey(suite, sHs, provider))).toBe(norm(s3.serverFinishedKey));
      expect(hx(finishedVerifyData(suite, sHs, hash, provider))).toBe(norm(s3.serverFinishedVerifyData));
      expect(verifyFinished(suite, sHs, hash, h(s3.serverFinishedVerifyData), provider)?.isFor(sHs)).toBe(true);
    });

    it('{server} construct a Finished handshake message', () => {
      expect(norm(s3.serverFinished)).toBe(`14000020${norm(s3.serverFinishedVerifyData)}`);
    });

    it('{server} send handshake record: payload and complete record under the server handshake keys', () => {
      const payload = concat(h(s3.encryptedExtensions), h(s3.certificate), h(s3.certificateVerify), h(s3.serverFinished));
      expect(hx(payload)).toBe(norm(s3.serverHandshakeRecordPayload));
      expectRecord(
        s3.serverHandshakeWriteKey,
        s3.serverHandshakeWriteIv,
        0,
        s3.serverHandshakeRecord,
        HANDSHAKE,
        s3.serverHandshakeRecordPayload,
      );
    });

    it('{server} derive secret "tls13 c ap traffic" over Transcript-Hash(ClientHello ... server Finished)', () => {
      expect(hx(serverFinishedHash)).toBe(norm(s3.serverFinishedHash));
      expect(hx(ms.clientApplicationTrafficSecret(serverFinishedHash))).toBe(norm(s3.clientApplicationTrafficSecret));
    });

    it('{server} derive secret "tls13 s ap traffic"', () => {
      expect(hx(ms.serverApplicationTrafficSecret(serverFinishedHash))).toBe(norm(s3.serverApplicationTrafficSecret));
    });

    it('{server} derive secret "tls13 exp master"', () => {
      expect(hx(ms.exporterMasterSecret(serverFinishedHash))).toBe(norm(s3.exporterMasterSecret));
    });

    it('{server} derive write traffic keys for application data', () => {
      const k = trafficKeys(suite, h(s3.serverApplicationTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s3.serverApplicationWriteKey));
      expect(hx(k.iv)).toBe(norm(s3.serverApplicationWriteIv));
    });

    it('{client} calculate finished "tls13 finished": expanded and finished', () => {
      expect(hx(finishedKey(suite, cHs, provider))).toBe(norm(s3.clientFinishedKey));
      expect(hx(finishedVerifyData(suite, cHs, serverFinishedHash, provider))).toBe(norm(s3.clientFinishedVerifyData));
      expect(norm(s3.clientFinished)).toBe(`14000020${norm(s3.clientFinishedVerifyData)}`);
      const w = verifyFinished(suite, cHs, serverFinishedHash, h(s3.clientFinishedVerifyData), provider);
      expect(w?.isFor(cHs)).toBe(true);
      expect(w?.isFor(sHs)).toBe(false);
    });

    it('{client} send handshake record: the client Finished under the client handshake keys', () => {
      expectRecord(s3.clientHandshakeWriteKey, s3.clientHandshakeWriteIv, 0, s3.clientFinishedRecord, HANDSHAKE, s3.clientFinished);
    });

    it('{client} derive write traffic keys for application data', () => {
      const k = trafficKeys(suite, h(s3.clientApplicationTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s3.clientApplicationWriteKey));
      expect(hx(k.iv)).toBe(norm(s3.clientApplicationWriteIv));
    });

    it('{client} derive secret "tls13 res master" over Transcript-Hash(ClientHello ... client Finished)', () => {
      const hash = th(
        s3.clientHello,
        s3.serverHello,
        s3.encryptedExtensions,
        s3.certificate,
        s3.certificateVerify,
        s3.serverFinished,
        s3.clientFinished,
      );
      expect(hx(hash)).toBe(norm(s3.clientFinishedHash));
      expect(hx(ms.resumptionMasterSecret(hash))).toBe(norm(s3.resumptionMasterSecret));
    });

    it('{server} generate resumption secret "tls13 resumption" from the ticket nonce', () => {
      expect(hx(resumptionPsk(suite, h(s3.resumptionMasterSecret), h(s3.ticketNonce), provider))).toBe(norm(s3.resumptionPsk));
    });

    it('{server} construct a NewSessionTicket handshake message: the record holds it and its nonce gives the PSK', () => {
      expectRecord(s3.serverApplicationWriteKey, s3.serverApplicationWriteIv, 0, s3.newSessionTicketRecord, HANDSHAKE, s3.newSessionTicket);
      const nst = h(s3.newSessionTicket);
      const nonceLen = nst[12] as number;
      expect(hx(nst.subarray(13, 13 + nonceLen))).toBe(norm(s3.ticketNonce));
    });

    it('{client} send application_data record and {server} send application_data record', () => {
      expectRecord(
        s3.clientApplicationWriteKey,
        s3.clientApplicationWriteIv,
        0,
        s3.clientApplicationDataRecord,
        APPLICATION_DATA,
        s3.clientApplicationData,
      );
      expectRecord(
        s3.serverApplicationWriteKey,
        s3.serverApplicationWriteIv,
        1,
        s3.serverApplicationDataRecord,
        APPLICATION_DATA,
        s3.serverApplicationData,
      );
    });

    it('{client} send alert record and {server} send alert record: close_notify', () => {
      expectRecord(s3.clientApplicationWriteKey, s3.clientApplicationWriteIv, 1, s3.clientAlertRecord, ALERT, s3.clientAlert);
      expectRecord(s3.serverApplicationWriteKey, s3.serverApplicationWriteIv, 2, s3.serverAlertRecord, ALERT, s3.serverAlert);
    });
  });

  describe('RFC 8448 §4 Resumed 0-RTT Handshake', () => {
    const psk = h(s3.resumptionPsk);
    const early = EarlySecret.create(suite, psk, provider);
    const chHash = th(s4.clientHello);
    const ecdhe = shared(NamedGroup.x25519, s4.serverPrivateKey, s4.clientPublicKey);
    const hs = early.withSharedSecret(ecdhe);
    const ms = hs.toMasterSecret();
    const helloHash = th(s4.clientHello, s4.serverHello);
    const cHs = hs.clientHandshakeTrafficSecret(helloHash);
    const sHs = hs.serverHandshakeTrafficSecret(helloHash);
    const serverFinishedHash = th(s4.clientHello, s4.serverHello, s4.encryptedExtensions, s4.serverFinished);

    it('{client} create an ephemeral x25519 key pair and {server} create an ephemeral x25519 key pair', () => {
      expect(hx(publicKeyOf(NamedGroup.x25519, s4.clientPrivateKey))).toBe(norm(s4.clientPublicKey));
      expect(hx(publicKeyOf(NamedGroup.x25519, s4.serverPrivateKey))).toBe(norm(s4.serverPublicKey));
    });

    it('{client} extract secret "early" with the §3 resumption PSK as IKM', () => {
      expect(hx(early.secret)).toBe(norm(s4.earlySecret));
    });

    it('{client} calculate PSK binder: binder hash over the ClientHello prefix', () => {
      expect(norm(s4.clientHello).startsWith(norm(s4.clientHelloPrefix))).toBe(true);
      expect(hx(th(s4.clientHelloPrefix))).toBe(norm(s4.binderHash));
    });

    it('{client} calculate PSK binder: PRK is the "res binder" key', () => {
      expect(hx(early.resumptionBinderKey())).toBe(norm(s4.binderKey));
    });

    it('{client} calculate PSK binder: expanded (finished_key of the binder key)', () => {
      expect(hx(finishedKey(suite, h(s4.binderKey), provider))).toBe(norm(s4.binderFinishedKey));
    });

    it('{client} calculate PSK binder: finished (the binder), and {server} calculate PSK binder verifies it', () => {
      const binderKey = early.resumptionBinderKey();
      expect(hx(computeBinder(suite, binderKey, h(s4.binderHash), provider))).toBe(norm(s4.binder));
      const w = verifyBinder(suite, binderKey, th(s4.clientHelloPrefix), h(s4.binder), provider);
      expect(w?.isFor(binderKey)).toBe(true);
      const wrong = Uint8Array.from(h(s4.binder));
      wrong[0] = (wrong[0] as number) ^ 1;
      expect(verifyBinder(suite, binderKey, th(s4.clientHelloPrefix), wrong, provider)).toBeUndefined();
    });

    it('{client} construct a ClientHello handshake message: prefix || binders(32-byte binder)', () => {
      expect(norm(s4.clientHello)).toBe(`${norm(s4.clientHelloPrefix)}002120${norm(s4.binder)}`);
      expect(plaintextRecord(HANDSHAKE, s4.clientHello, 0x0301)).toBe(norm(s4.clientHelloRecord));
    });

    it('{client} construct a ClientHello: the PSK identity is the §3 ticket with its obfuscated age', () => {
      const nst = h(s3.newSessionTicket);
      const lifetimeMs = 1000 * (((nst[4] as number) << 24) | ((nst[5] as number) << 16) | ((nst[6] as number) << 8) | (nst[7] as number));
      const ageAdd = (((nst[8] as number) << 24) | ((nst[9] as number) << 16) | ((nst[10] as number) << 8) | (nst[11] as number)) >>> 0;
      const ticketLen = ((nst[15] as number) << 8) | (nst[16] as number);
      const ticket = hx(nst.subarray(17, 17 + ticketLen));
      const prefix = norm(s4.clientHelloPrefix);
      // PskIdentity: identity<1..2^16-1> then uint32 obfuscated_ticket_age, the last bytes before the binders.
      expect(prefix.slice(-(ticket.length + 8), -8)).toBe(ticket);
      const obfuscated = parseInt(prefix.slice(-8), 16);
      const age = ticketAgeFromObfuscated(obfuscated, ageAdd);
      expect(age).toBeLessThanOrEqual(lifetimeMs);
      expect(obfuscatedTicketAge(age, ageAdd)).toBe(obfuscated);
    });

    it('{client} derive secret "tls13 c e traffic" (reference only)', () => {
      expect(hx(early.clientEarlyTrafficSecret(chHash))).toBe(norm(s4.clientEarlyTrafficSecret));
    });

    it('{client} derive secret "tls13 e exp master" (reference only)', () => {
      expect(hx(early.earlyExporterMasterSecret(chHash))).toBe(norm(s4.earlyExporterMasterSecret));
    });

    it('{client} derive write traffic keys for early application data and its record (reference only)', () => {
      const k = trafficKeys(suite, h(s4.clientEarlyTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s4.clientEarlyWriteKey));
      expect(hx(k.iv)).toBe(norm(s4.clientEarlyWriteIv));
      expectRecord(
        s4.clientEarlyWriteKey,
        s4.clientEarlyWriteIv,
        0,
        s4.earlyApplicationDataRecord,
        APPLICATION_DATA,
        s4.earlyApplicationData,
      );
    });

    it('{server} construct a ServerHello handshake message selecting PSK 0, and its record', () => {
      expect(norm(s4.serverHello)).toContain('002900020000');
      expect(plaintextRecord(HANDSHAKE, s4.serverHello)).toBe(norm(s4.serverHelloRecord));
    });

    it('{server} derive secret for handshake "tls13 derived"', () => {
      expect(hx(deriveSecret('sha256', early.secret, 'derived', h(emptyHashSha256), provider))).toBe(norm(s4.derivedForHandshake));
    });

    it('{server} extract secret "handshake": IKM from both sides, and the secret', () => {
      expect(hx(ecdhe)).toBe(norm(s4.sharedSecret));
      expect(hx(shared(NamedGroup.x25519, s4.clientPrivateKey, s4.serverPublicKey))).toBe(norm(s4.sharedSecret));
      expect(hx(hs.secret)).toBe(norm(s4.handshakeSecret));
    });

    it('{server} derive secret "tls13 c hs traffic" and "tls13 s hs traffic"', () => {
      expect(hx(cHs)).toBe(norm(s4.clientHandshakeTrafficSecret));
      expect(hx(sHs)).toBe(norm(s4.serverHandshakeTrafficSecret));
    });

    it('{server} derive secret for master "tls13 derived" and extract secret "master"', () => {
      expect(hx(deriveSecret('sha256', hs.secret, 'derived', h(emptyHashSha256), provider))).toBe(norm(s4.derivedForMaster));
      expect(hx(ms.secret)).toBe(norm(s4.masterSecret));
    });

    it('{server} derive write traffic keys for handshake data', () => {
      const k = trafficKeys(suite, sHs, provider);
      expect(hx(k.key)).toBe(norm(s4.serverHandshakeWriteKey));
      expect(hx(k.iv)).toBe(norm(s4.serverHandshakeWriteIv));
    });

    it('{server} calculate finished "tls13 finished" over ClientHello, ServerHello, EncryptedExtensions', () => {
      const hash = th(s4.clientHello, s4.serverHello, s4.encryptedExtensions);
      expect(hx(finishedVerifyData(suite, sHs, hash, provider))).toBe(norm(s4.serverFinishedVerifyData));
      expect(norm(s4.serverFinished)).toBe(`14000020${norm(s4.serverFinishedVerifyData)}`);
    });

    it('{server} send handshake record: EncryptedExtensions and Finished', () => {
      expect(norm(s4.serverHandshakeRecordPayload)).toBe(norm(s4.encryptedExtensions) + norm(s4.serverFinished));
      expectRecord(
        s4.serverHandshakeWriteKey,
        s4.serverHandshakeWriteIv,
        0,
        s4.serverHandshakeRecord,
        HANDSHAKE,
        s4.serverHandshakeRecordPayload,
      );
    });

    it('{server} derive secret "tls13 c ap traffic", "tls13 s ap traffic" and "tls13 exp master"', () => {
      expect(hx(ms.clientApplicationTrafficSecret(serverFinishedHash))).toBe(norm(s4.clientApplicationTrafficSecret));
      expect(hx(ms.serverApplicationTrafficSecret(serverFinishedHash))).toBe(norm(s4.serverApplicationTrafficSecret));
      expect(hx(ms.exporterMasterSecret(serverFinishedHash))).toBe(norm(s4.exporterMasterSecret));
    });

    it('{server} derive write traffic keys for application data', () => {
      const k = trafficKeys(suite, h(s4.serverApplicationTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s4.serverApplicationWriteKey));
      expect(hx(k.iv)).toBe(norm(s4.serverApplicationWriteIv));
    });

    it('{client} send handshake record: EndOfEarlyData under the early keys (reference only)', () => {
      expectRecord(s4.clientEarlyWriteKey, s4.clientEarlyWriteIv, 1, s4.endOfEarlyDataRecord, HANDSHAKE, s4.endOfEarlyData);
    });

    it('{client} derive write traffic keys for handshake data', () => {
      const k = trafficKeys(suite, cHs, provider);
      expect(hx(k.key)).toBe(norm(s4.clientHandshakeWriteKey));
      expect(hx(k.iv)).toBe(norm(s4.clientHandshakeWriteIv));
    });

    it('{client} calculate finished "tls13 finished" over the transcript including EndOfEarlyData', () => {
      const hash = th(s4.clientHello, s4.serverHello, s4.encryptedExtensions, s4.serverFinished, s4.endOfEarlyData);
      expect(hx(finishedVerifyData(suite, cHs, hash, provider))).toBe(norm(s4.clientFinishedVerifyData));
      expect(norm(s4.clientFinished)).toBe(`14000020${norm(s4.clientFinishedVerifyData)}`);
      expectRecord(s4.clientHandshakeWriteKey, s4.clientHandshakeWriteIv, 0, s4.clientFinishedRecord, HANDSHAKE, s4.clientFinished);
    });

    it('{client} derive write traffic keys for application data', () => {
      const k = trafficKeys(suite, h(s4.clientApplicationTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s4.clientApplicationWriteKey));
      expect(hx(k.iv)).toBe(norm(s4.clientApplicationWriteIv));
    });

    it('{client} derive secret "tls13 res master"', () => {
      const hash = th(s4.clientHello, s4.serverHello, s4.encryptedExtensions, s4.serverFinished, s4.endOfEarlyData, s4.clientFinished);
      expect(hx(ms.resumptionMasterSecret(hash))).toBe(norm(s4.resumptionMasterSecret));
    });

    it('{client} and {server} send application_data and alert records', () => {
      expectRecord(
        s4.clientApplicationWriteKey,
        s4.clientApplicationWriteIv,
        0,
        s4.clientApplicationDataRecord,
        APPLICATION_DATA,
        s4.clientApplicationData,
      );
      expectRecord(
        s4.serverApplicationWriteKey,
        s4.serverApplicationWriteIv,
        0,
        s4.serverApplicationDataRecord,
        APPLICATION_DATA,
        s4.serverApplicationData,
      );
      expectRecord(s4.clientApplicationWriteKey, s4.clientApplicationWriteIv, 1, s4.clientAlertRecord, ALERT, s4.clientAlert);
      expectRecord(s4.serverApplicationWriteKey, s4.serverApplicationWriteIv, 1, s4.serverAlertRecord, ALERT, s4.serverAlert);
    });
  });

  describe('RFC 8448 §5 HelloRetryRequest', () => {
    const early = EarlySecret.create(suite, undefined, provider);
    const ecdhe = shared(NamedGroup.secp256r1, s5.serverP256PrivateKey, s5.clientP256PublicKey);
    const hs = early.withSharedSecret(ecdhe);
    const ms = hs.toMasterSecret();
    const messageHash = hx(messageHashMessage('sha256', h(s5.clientHello1), provider));
    const helloHash = th(messageHash, s5.helloRetryRequest, s5.clientHello2, s5.serverHello);
    const cHs = hs.clientHandshakeTrafficSecret(helloHash);
    const sHs = hs.serverHandshakeTrafficSecret(helloHash);
    const throughServerFinished = [
      messageHash,
      s5.helloRetryRequest,
      s5.clientHello2,
      s5.serverHello,
      s5.encryptedExtensions,
      s5.certificate,
      s5.certificateVerify,
      s5.serverFinished,
    ];
    const serverFinishedHash = th(...throughServerFinished);

    it('{client} create an ephemeral x25519 key pair, offered in the first ClientHello', () => {
      expect(hx(publicKeyOf(NamedGroup.x25519, s5.clientX25519PrivateKey))).toBe(norm(s5.clientX25519PublicKey));
      expect(norm(s5.clientHello1)).toContain(`001d0020${norm(s5.clientX25519PublicKey)}`);
      expect(plaintextRecord(HANDSHAKE, s5.clientHello1, 0x0301)).toBe(norm(s5.clientHello1Record));
    });

    it('{server} construct a HelloRetryRequest: random is SHA-256("HelloRetryRequest"), selected group secp256r1, a cookie', () => {
      const hrr = norm(s5.helloRetryRequest);
      expect(hrr.slice(12, 76)).toBe(HRR_RANDOM_HEX);
      expect(hrr).toContain('003300020017');
      expect(hrr).toContain(`002c0074${'0072'}${norm(s5.cookie)}`);
      expect(plaintextRecord(HANDSHAKE, s5.helloRetryRequest)).toBe(norm(s5.helloRetryRequestRecord));
    });

    it('{client} create an ephemeral P-256 key pair, offered in the second ClientHello with the cookie', () => {
      expect(hx(publicKeyOf(NamedGroup.secp256r1, s5.clientP256PrivateKey))).toBe(norm(s5.clientP256PublicKey));
      expect(norm(s5.clientHello2)).toContain(`00170041${norm(s5.clientP256PublicKey)}`);
      expect(norm(s5.clientHello2)).toContain(norm(s5.cookie));
      expect(plaintextRecord(HANDSHAKE, s5.clientHello2)).toBe(norm(s5.clientHello2Record));
    });

    it('{server} create an ephemeral P-256 key pair, sent in the ServerHello', () => {
      expect(hx(publicKeyOf(NamedGroup.secp256r1, s5.serverP256PrivateKey))).toBe(norm(s5.serverP256PublicKey));
      expect(norm(s5.serverHello)).toContain(`00170041${norm(s5.serverP256PublicKey)}`);
      expect(plaintextRecord(HANDSHAKE, s5.serverHello)).toBe(norm(s5.serverHelloRecord));
    });

    it('{server} extract secret "early" (no PSK)', () => {
      expect(hx(early.secret)).toBe(norm(s5.earlySecret));
    });

    it('{server} derive secret for handshake "tls13 derived"', () => {
      expect(hx(deriveSecret('sha256', early.secret, 'derived', h(emptyHashSha256), provider))).toBe(norm(s5.derivedForHandshake));
    });

    it('{server} extract secret "handshake": IKM is the P-256 x-coordinate, the same from both sides', () => {
      expect(hx(ecdhe)).toBe(norm(s5.sharedSecret));
      expect(hx(shared(NamedGroup.secp256r1, s5.clientP256PrivateKey, s5.serverP256PublicKey))).toBe(norm(s5.sharedSecret));
      expect(hx(hs.secret)).toBe(norm(s5.handshakeSecret));
    });

    it('{server} derive secret "tls13 c hs traffic": hash of message_hash(ClientHello1), HelloRetryRequest, ClientHello, ServerHello', () => {
      expect(messageHash.slice(0, 8)).toBe('fe000020');
      expect(hx(helloHash)).toBe(norm(s5.helloHash));
      // Hashing ClientHello1 itself instead of the synthetic message_hash gives something else.
      expect(hx(th(s5.clientHello1, s5.helloRetryRequest, s5.clientHello2, s5.serverHello))).not.toBe(norm(s5.helloHash));
      expect(hx(cHs)).toBe(norm(s5.clientHandshakeTrafficSecret));
    });

    it('{server} derive secret "tls13 s hs traffic"', () => {
      expect(hx(sHs)).toBe(norm(s5.serverHandshakeTrafficSecret));
    });

    it('{server} derive secret for master "tls13 derived" and extract secret "master"', () => {
      expect(hx(deriveSecret('sha256', hs.secret, 'derived', h(emptyHashSha256), provider))).toBe(norm(s5.derivedForMaster));
      expect(hx(ms.secret)).toBe(norm(s5.masterSecret));
    });

    it('{server} derive write traffic keys for handshake data, and read keys (client handshake write keys)', () => {
      const sk = trafficKeys(suite, sHs, provider);
      expect(hx(sk.key)).toBe(norm(s5.serverHandshakeWriteKey));
      expect(hx(sk.iv)).toBe(norm(s5.serverHandshakeWriteIv));
      const ck = trafficKeys(suite, cHs, provider);
      expect(hx(ck.key)).toBe(norm(s5.clientHandshakeWriteKey));
      expect(hx(ck.iv)).toBe(norm(s5.clientHandshakeWriteIv));
    });

    it('{server} construct a CertificateVerify handshake message: verifies over the HelloRetryRequest transcript', () => {
      const cv = h(s5.certificateVerify);
      expect((cv[4] as number) * 256 + (cv[5] as number)).toBe(SignatureScheme.rsa_pss_rsae_sha256);
      const spki = spkiOf(certificateDer(s5.certificate));
      const signedHash = th(messageHash, s5.helloRetryRequest, s5.clientHello2, s5.serverHello, s5.encryptedExtensions, s5.certificate);
      expect(
        verifyCertificateVerify(SignatureScheme.rsa_pss_rsae_sha256, spki, 'server', signedHash, cv.subarray(8), provider),
      ).toBeDefined();
    });

    it('{server} calculate finished "tls13 finished"', () => {
      const hash = th(
        messageHash,
        s5.helloRetryRequest,
        s5.clientHello2,
        s5.serverHello,
        s5.encryptedExtensions,
        s5.certificate,
        s5.certificateVerify,
      );
      expect(hx(finishedVerifyData(suite, sHs, hash, provider))).toBe(norm(s5.serverFinishedVerifyData));
      expect(norm(s5.serverFinished)).toBe(`14000020${norm(s5.serverFinishedVerifyData)}`);
    });

    it('{server} send handshake record: payload and complete record', () => {
      expect(norm(s5.serverHandshakeRecordPayload)).toBe(
        norm(s5.encryptedExtensions) + norm(s5.certificate) + norm(s5.certificateVerify) + norm(s5.serverFinished),
      );
      expectRecord(
        s5.serverHandshakeWriteKey,
        s5.serverHandshakeWriteIv,
        0,
        s5.serverHandshakeRecord,
        HANDSHAKE,
        s5.serverHandshakeRecordPayload,
      );
    });

    it('{server} derive secret "tls13 c ap traffic", "tls13 s ap traffic" and "tls13 exp master"', () => {
      expect(hx(ms.clientApplicationTrafficSecret(serverFinishedHash))).toBe(norm(s5.clientApplicationTrafficSecret));
      expect(hx(ms.serverApplicationTrafficSecret(serverFinishedHash))).toBe(norm(s5.serverApplicationTrafficSecret));
      expect(hx(ms.exporterMasterSecret(serverFinishedHash))).toBe(norm(s5.exporterMasterSecret));
    });

    it('{server} derive write traffic keys for application data', () => {
      const k = trafficKeys(suite, h(s5.serverApplicationTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s5.serverApplicationWriteKey));
      expect(hx(k.iv)).toBe(norm(s5.serverApplicationWriteIv));
    });

    it('{client} calculate finished "tls13 finished" and send handshake record', () => {
      expect(hx(finishedVerifyData(suite, cHs, serverFinishedHash, provider))).toBe(norm(s5.clientFinishedVerifyData));
      expect(norm(s5.clientFinished)).toBe(`14000020${norm(s5.clientFinishedVerifyData)}`);
      expectRecord(s5.clientHandshakeWriteKey, s5.clientHandshakeWriteIv, 0, s5.clientFinishedRecord, HANDSHAKE, s5.clientFinished);
    });

    it('{client} derive write traffic keys for application data', () => {
      const k = trafficKeys(suite, h(s5.clientApplicationTrafficSecret), provider);
      expect(hx(k.key)).toBe(norm(s5.clientApplicationWriteKey));
      expect(hx(k.iv)).toBe(norm(s5.clientApplicationWriteIv));
    });

    it('{client} derive secret "tls13 res master"', () => {
      const hash = th(...throughServerFinished, s5.clientFinished);
      expect(hx(ms.resumptionMasterSecret(hash))).toBe(norm(s5.resumptionMasterSecret));
    });

    it('{client} send alert record and {server} send alert record', () => {
      expectRecord(s5.clientApplicationWriteKey, s5.clientApplicationWriteIv, 0, s5.clientAlertRecord, ALERT, s5.clientAlert);
      expectRecord(s5.serverApplicationWriteKey, s5.serverApplicationWriteIv, 0, s5.serverAlertRecord, ALERT, s5.serverAlert);
    });
  });
});
