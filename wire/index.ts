/** The wire codec of tlschart: handshake messages, extensions and alerts (RFC 8446 §4, §6, §B.3). */

export { AlertLevel, alertMessage, decodeAlert, encodeAlert } from './alert.js';
export * from './alerts.js';
export {
  decodeExtensions,
  EXTENSION_BLOCK_BOUNDS,
  encodeExtensions,
  extensionAllowedIn,
  extensionCode,
  extensionFormFits,
  findDisallowedExtension,
  findExtension,
  findExtensionByCode,
  isKnownExtensionCode,
  readExtensions,
  writeExtensions,
} from './extensions.js';
export type { DecodeHandshakeOptions, EncodedOf, HandshakeHeader, UnencodedMessage } from './handshake.js';
export {
  bindersLength,
  decodeHandshake,
  encodeClientHelloWithoutBinders,
  encodeHandshake,
  HANDSHAKE_HEADER_LENGTH,
  hrrRandom,
  isHelloRetryRequestRandom,
  isKnownHandshakeType,
  patchBinders,
  readHandshakeHeader,
  truncatedClientHello,
  withBinders,
} from './handshake.js';
export { decodeWith, Reader, WireDecodeError } from './reader.js';
export * from './types.js';
export { Writer } from './writer.js';
