/** Session tickets: server store, client cache, session export/import (stateful tickets only). */
export {
  MAX_TICKET_LIFETIME_S,
  type ServerSessionState,
  type TicketIssue,
  type TicketStore,
  type ClientSession,
  type ClientTicketCache,
} from './types.js';
export { DEFAULT_MAX_TICKETS, MemoryTicketStore, isServerStateExpired, type MemoryTicketStoreOptions, type MemoryTicketStoreStats } from './memory-store.js';
export {
  MemoryClientTicketCache,
  isKeepableLifetime,
  isClientSessionExpired,
  type MemoryClientTicketCacheOptions,
} from './client-cache.js';
export { encodeClientSession, decodeClientSession } from './session-codec.js';
export {
  RedisTicketStore,
  parseRedisUrl,
  DEFAULT_TICKET_PREFIX,
  DEFAULT_REDIS_TIMEOUT_MS,
  type RedisTicketStoreOptions,
  type RedisTarget,
} from './redis-store.js';
export { encodeServerSessionState, decodeServerSessionState } from './state-codec.js';
