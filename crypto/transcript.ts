/**
 * The transcript hash (RFC 8446 §4.4.1): Hash of the concatenation of the
 * handshake messages exactly as sent or received, each with its 4-byte
 * handshake header, and no record-layer framing.
 */
import { concat } from './bytes.js';
import { checkHash } from './check.js';
import type { CryptoProvider } from './provider.js';
import { type HashName, hashLength } from './suites.js';

/** HandshakeType.message_hash (RFC 8446 §4). */
const MESSAGE_HASH = 254;

/** Transcript-Hash(M1, M2, ... Mn) = Hash(M1 || M2 || ... || Mn) (RFC 8446 §4.4.1). */
export function transcriptHash(hash: HashName, messages: readonly Uint8Array[], p: CryptoProvider): Uint8Array {
  if (!Array.isArray(messages)) throw new TypeError('messages must be an array of Uint8Array');
  for (const m of messages) {
    if (!(m instanceof Uint8Array)) throw new TypeError('every message must be a Uint8Array');
  }
  checkHash(hash);
  return p.hash(hash, concat(...messages));
}

/**
 * The synthetic handshake message that replaces ClientHello1 in the
 * transcript after a HelloRetryRequest (RFC 8446 §4.4.1):
 *
 * ```
 * Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
 *     Hash(message_hash ||        -- handshake type 254
 *          00 00 Hash.length  ||  -- handshake message length
 *          Hash(ClientHello1) ||
 *          HelloRetryRequest  || ... || Mn)
 * ```
 *
 * `clientHello1Raw` is the whole first ClientHello, header included.
 */
export function messageHashMessage(hash: HashName, clientHello1Raw: Uint8Array, p: CryptoProvider): Uint8Array {
  checkHash(hash);
  if (!(clientHello1Raw instanceof Uint8Array)) throw new TypeError('clientHello1Raw must be a Uint8Array');
  if (clientHello1Raw.length < 4 || clientHello1Raw[0] !== 1) {
    throw new RangeError('clientHello1Raw must be a whole ClientHello handshake message (type 1, header included)');
  }
  const len = hashLength(hash);
  return concat(new Uint8Array([MESSAGE_HASH, 0, 0, len]), p.hash(hash, clientHello1Raw));
}
