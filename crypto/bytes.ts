/** The byte helpers live at the bottom layer (wire/bytes.ts); the crypto core re-exports them as part of its API. */
export * from '../wire/bytes.js';
