/** The wire codec of tlschart: handshake messages, extensions and alerts (RFC 8446 §4, §6, §B.3). */
export * from './types.js';
export * from './alerts.js';
export { Reader, WireDecodeError, decodeWith } from './reader.js';
export { Writer } from './writer.js';
export {
  EXTENSION_BLOCK_BOUNDS,
  decodeExtensions,
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
export {
  HANDSHAKE_HEADER_LENGTH,
  bindersLength,
  decodeHandshake,
  encodeClientHelloWithoutBinders,
  encodeHandshake,
  hrrRandom,
  isHelloRetryRequestRandom,
  isKnownHandshakeType,
  patchBinders,
  readHandshakeHeader,
  truncatedClientHello,
  withBinders,
} from './handshake.js';
export type { DecodeHandshakeOptions, EncodedOf, HandshakeHeader, UnencodedMessage } from './handshake.js';
export { AlertLevel, alertMessage, decodeAlert, encodeAlert } from './alert.js';
