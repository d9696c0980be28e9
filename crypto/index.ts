/** The crypto core of tlschart: everything synchronous, Uint8Array in and out, behind one CryptoProvider. */
export * from './bytes.js';
export * from './kex.js';
export * from './keyschedule.js';
export * from './noble.js';
export { createNodeProvider, nodeProvider, PROVIDERS, type ProviderName } from './node-provider.js';
export type * from './provider.js';
export * from './signature.js';
export type { KeyKind } from './spki.js';
export * from './suites.js';
export * from './transcript.js';
export * from './witness.js';
