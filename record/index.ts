/** The record layer (RFC 8446 §5): framing, protection, reassembly, key epochs. */
export {
  checkRecordHeader,
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  RECORD_HEADER_LENGTH,
  type ReadResult,
  RecordReader,
  type RecordReaderOptions,
  recordHeader,
  type TlsRecord,
} from './framing.js';
export {
  DEFAULT_EARLY_DATA_SKIP_LIMIT,
  DEFAULT_MAX_EMPTY_RECORDS,
  DEFAULT_MAX_HANDSHAKE_MESSAGE,
  DEFAULT_MAX_HANDSHAKE_RECORDS,
  type PaddingPolicy,
  type RecordItem,
  RecordLayer,
  type RecordLayerOptions,
} from './layer.js';
export {
  MAX_INNER_PLAINTEXT_LENGTH,
  MAX_SEQUENCE_NUMBER,
  type ProtectionOptions,
  RecordDeprotector,
  RecordProtector,
  recordNonce,
  type TrafficKeys,
  type Unprotected,
} from './protection.js';
