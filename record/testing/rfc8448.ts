/**
 * The RFC 8448 §3 ("Simple 1-RTT Handshake") protected records and the traffic
 * keys that protect them, for the record-layer unit tests — taken from the one
 * transcription of RFC 8448 in vectors/rfc8448.ts.
 */
import { fromHex } from '../../crypto/bytes.js';
import { s3 } from '../../vectors/rfc8448.js';

const keys = (key: string, iv: string) => ({ key: fromHex(key), iv: fromHex(iv) });

/** {server} derive write traffic keys for handshake data. */
export const serverHandshakeKeys = keys(s3.serverHandshakeWriteKey, s3.serverHandshakeWriteIv);
/** {client} derive write traffic keys for handshake data. */
export const clientHandshakeKeys = keys(s3.clientHandshakeWriteKey, s3.clientHandshakeWriteIv);
/** {server} derive write traffic keys for application data. */
export const serverApplicationKeys = keys(s3.serverApplicationWriteKey, s3.serverApplicationWriteIv);
/** {client} derive write traffic keys for application data. */
export const clientApplicationKeys = keys(s3.clientApplicationWriteKey, s3.clientApplicationWriteIv);

export const encryptedExtensions = fromHex(s3.encryptedExtensions);
export const certificate = fromHex(s3.certificate);
export const certificateVerify = fromHex(s3.certificateVerify);
export const serverFinished = fromHex(s3.serverFinished);
/** {server} send handshake record: EncryptedExtensions, Certificate, CertificateVerify, Finished (seq 0). */
export const serverHandshakeRecord = fromHex(s3.serverHandshakeRecord);
/** {client} send handshake record: Finished (seq 0 under the client handshake keys). */
export const clientFinishedRecord = fromHex(s3.clientFinishedRecord);
/** {server} send handshake record: NewSessionTicket (seq 0 under the server application keys). */
export const serverNewSessionTicketRecord = fromHex(s3.newSessionTicketRecord);
/** {client} send application_data record (seq 0 under the client application keys). */
export const clientApplicationDataRecord = fromHex(s3.clientApplicationDataRecord);
/** {server} send application_data record (seq 1: the NewSessionTicket used seq 0). */
export const serverApplicationDataRecord = fromHex(s3.serverApplicationDataRecord);
/** The 50-byte application data payload both sides send: 00 01 02 ... 31. */
export const applicationPayload = Uint8Array.from({ length: 50 }, (_, i) => i);
