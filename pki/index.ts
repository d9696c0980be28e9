/** Certificates: PEM, peer chain validation, throwaway certificate generation. */
export { pemToDerList, derToPem } from './pem.js';
export {
  validateServerChain,
  MAX_CHAIN_LENGTH,
  MAX_SIGNATURE_CHECKS,
  type CertificateFailureReason,
  type ValidateOptions,
  type ValidationResult,
} from './validate.js';
export {
  generateSelfSigned,
  type GenerateOptions,
  type GeneratedCertificate,
  type KeyType,
  type KeyUsageName,
  type ExtendedKeyUsageName,
} from './generate.js';
