/**
 * `tlschart serve --ticket-store memory|redis://HOST:PORT[/DB] [--ticket-prefix P]`:
 * where the server keeps the state behind the tickets it issues. `memory` (the
 * default) is this process only; a Redis URL shares tickets with every server
 * pointed at the same Redis and prefix, single use across all of them.
 */
import { DEFAULT_TICKET_PREFIX, parseRedisUrl, RedisTicketStore } from '../tickets/redis-store.js';
import type { TicketStore } from '../tickets/types.js';
import { type Parsed, stringOption } from './args.js';
import { type CliIo, UsageError } from './io.js';

export const TICKET_STORE_OPTIONS = {
  'ticket-store': { type: 'string' },
  'ticket-prefix': { type: 'string' },
} as const;

export const TICKET_STORE_HELP = `  --ticket-store STORE    where ticket states live: memory (default; this
                          process only) or redis://HOST:PORT[/DB] (also
                          rediss://, user:password@): shared by every server
                          using the same Redis and prefix, each ticket used once
                          across all of them. Redis down or slow: full
                          handshakes, no tickets sent, one log line per 30 s
  --ticket-prefix P       Redis key prefix (default ${DEFAULT_TICKET_PREFIX})
`;

/** How long serve waits for Redis at start before saying it is not there (it keeps trying). */
const FIRST_CONNECT_WAIT_MS = 2000;

/** What --ticket-store and --ticket-prefix asked for, checked. */
export type TicketStoreChoice = { kind: 'memory' } | { kind: 'redis'; url: string; prefix: string | undefined };

/** Check --ticket-store / --ticket-prefix (before anything is started: a mistake is a usage error). */
export function ticketStoreChoice(command: string, values: Parsed['values']): TicketStoreChoice {
  const spec = stringOption(values, 'ticket-store') ?? 'memory';
  const prefix = stringOption(values, 'ticket-prefix');
  if (spec === 'memory') {
    if (prefix !== undefined) throw new UsageError(`${command}: --ticket-prefix goes with --ticket-store redis://...`);
    return { kind: 'memory' };
  }
  const target = parseRedisUrl(spec);
  if ('error' in target) throw new UsageError(`${command}: --ticket-store must be memory or redis://HOST:PORT[/DB]: ${target.error}`);
  if (prefix === '') throw new UsageError(`${command}: --ticket-prefix must not be empty`);
  return { kind: 'redis', url: target.url, prefix };
}

export interface OpenedTicketStore {
  /** undefined: the server's own MemoryTicketStore. */
  store: TicketStore | undefined;
  close(): Promise<void>;
}

/** Open the chosen store; says on stdout which one, and on stderr when Redis is not reachable (it keeps trying). */
export async function openTicketStore(choice: TicketStoreChoice, io: CliIo): Promise<OpenedTicketStore> {
  if (choice.kind === 'memory') return { store: undefined, close: async () => undefined };
  const store = new RedisTicketStore({
    url: choice.url,
    ...(choice.prefix !== undefined ? { prefix: choice.prefix } : {}),
    log: (line) => io.stderr(`tlschart ${line}\n`),
  });
  io.stdout(`ticket store: ${store.target}, keys ${store.prefix}<ticket hex>\n`);
  if (!(await store.whenReady(FIRST_CONNECT_WAIT_MS))) {
    io.stderr(`tlschart ticket store ${store.target}: not reachable yet; handshakes are full and no tickets are sent until it is\n`);
  }
  return { store, close: () => store.close() };
}
