/** Session tickets: server store, client cache, session export/import (stateful tickets only). */

export {
  isClientSessionExpired,
  isKeepableLifetime,
  MemoryClientTicketCache,
  type MemoryClientTicketCacheOptions,
} from './client-cache.js';
export {
  DEFAULT_MAX_TICKETS,
  isServerStateExpired,
  MemoryTicketStore,
  type MemoryTicketStoreOptions,
  type MemoryTicketStoreStats,
} from './memory-store.js';
export {
  DEFAULT_REDIS_TIMEOUT_MS,
  DEFAULT_TICKET_PREFIX,
  parseRedisUrl,
  type RedisTarget,
  RedisTicketStore,
  type RedisTicketStoreOptions,
} from './redis-store.js';
export { decodeClientSession, encodeClientSession } from './session-codec.js';
export { decodeServerSessionState, encodeServerSessionState } from './state-codec.js';
export {
  type ClientSession,
  type ClientTicketCache,
  MAX_TICKET_LIFETIME_S,
  type ServerSessionState,
  type TicketIssue,
  type TicketStore,
} from './types.js';
