/** The record layer (RFC 8446 §5): framing, protection, reassembly, key epochs. */
export {
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  RECORD_HEADER_LENGTH,
  RecordReader,
  checkRecordHeader,
  recordHeader,
  type ReadResult,
  type RecordReaderOptions,
  type TlsRecord,
} from './framing.js';
export {
  MAX_INNER_PLAINTEXT_LENGTH,
  MAX_SEQUENCE_NUMBER,
  RecordDeprotector,
  RecordProtector,
  recordNonce,
  type ProtectionOptions,
  type TrafficKeys,
  type Unprotected,
} from './protection.js';
export {
  DEFAULT_EARLY_DATA_SKIP_LIMIT,
  DEFAULT_MAX_EMPTY_RECORDS,
  DEFAULT_MAX_HANDSHAKE_MESSAGE,
  DEFAULT_MAX_HANDSHAKE_RECORDS,
  RecordLayer,
  type PaddingPolicy,
  type RecordItem,
  type RecordLayerOptions,
} from './layer.js';
