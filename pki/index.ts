/** Certificates: PEM, peer chain validation, throwaway certificate generation. */

export {
  type ExtendedKeyUsageName,
  type GeneratedCertificate,
  type GenerateOptions,
  generateSelfSigned,
  type KeyType,
  type KeyUsageName,
} from './generate.js';
export { derToPem, pemToDerList } from './pem.js';
export {
  type CertificateFailureReason,
  MAX_CHAIN_LENGTH,
  MAX_SIGNATURE_CHECKS,
  type ValidateOptions,
  type ValidationResult,
  validateServerChain,
} from './validate.js';
