/** The wire codec of tlschart: handshake messages, extensions and alerts (RFC 8446 §4, §6, §B.3). */
export * from './types.js';
export * from './alerts.js';
export * from './reader.js';
export * from './writer.js';
export * from './extensions.js';
export * from './handshake.js';
export * from './alert.js';
