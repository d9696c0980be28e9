/**
 * The attacker's choices, as arbitraries: which chunk in flight, which bit,
 * how many bytes survive, where an old chunk goes, and the handshake-level
 * tampering and misbehaving peers of the known attacks.
 */
import fc from 'fast-check';
import type { ClientVariant, ServerVariant } from '../support/variants.js';

/** Index of a chunk in flight (taken modulo the queue length). */
export const arbChunk = fc.nat(63);
/** Any bit of a chunk (taken modulo its length in bits). */
export const arbBit = fc.nat((1 << 17) - 1);
/** How many bytes of a chunk get through (modulo its length). */
export const arbKeep = fc.nat(4096);
/** A ticket of the client's (modulo how many it holds). */
export const arbTicket = fc.nat(15);
export const arbServer = fc.constantFrom('A' as const, 'B' as const);
/** Mostly the name tickets were issued for; sometimes another one (property 7). */
export const arbServerName = fc.constantFrom('localhost', 'localhost', 'localhost', 'other.example');
export const arbSide = fc.constantFrom('client' as const, 'server' as const);
export const arbDirection = fc.constantFrom('toServer' as const, 'toClient' as const);
/** 0-RTT sizes: a little, and more than the 16384-byte skip limit. */
export const arbEarlyBytes = fc.constantFrom(100, 3000, 20_000);

export const arbTamper = fc.constantFrom(
  'badBinder' as const,
  'pskWithoutModes' as const,
  'pskNotLast' as const,
  'staleBinder' as const,
  'serverHelloSessionIdMismatch' as const,
  'helloRetryForSentShare' as const,
  'earlyChangeCipherSpec' as const,
  'secondChangeCipherSpec' as const,
);

export const arbMisbehaviour: fc.Arbitrary<{ side: 'client'; kind: ClientVariant } | { side: 'server'; kind: ServerVariant }> = fc.oneof(
  fc
    .constantFrom<ClientVariant>(
      'flippedFinished',
      'flippedSignature',
      'signatureSchemeMismatch',
      'skipCertificate',
      'untrustedCertificate',
    )
    .map((kind) => ({ side: 'client' as const, kind })),
  fc
    .constantFrom<ServerVariant>(
      'flippedFinished',
      'flippedSignature',
      'signatureSchemeMismatch',
      'skipCertificateVerify',
      'skipCertificate',
      'acceptedEarlyData',
      'untrustedCertificate',
    )
    .map((kind) => ({ side: 'server' as const, kind })),
);
