/**
 * An in-memory client↔server pair for tests: deterministic randomness and
 * clock, and a hook that sees (and may alter, drop, duplicate or inject) every
 * chunk of bytes in flight.
 */
import { signingKeyFromPem } from '../../crypto/signature.js';
import type { clientMachine } from '../../machines/client/machine.js';
import type { serverMachine } from '../../machines/server/machine.js';
import type { CertifiedKey, ClientConfig, Environment, ServerConfig } from '../../machines/types.js';
import { generateSelfSigned, type KeyType } from '../../pki/generate.js';
import { pemToDerList } from '../../pki/pem.js';
import { MemoryTicketStore } from '../../tickets/memory-store.js';
import type { ClientSession, TicketStore } from '../../tickets/types.js';
import { defaultClientConfig, defaultServerConfig } from '../config.js';
import { ClientConnection, ServerConnection, type TraceEntry } from '../connection.js';
import { type SeededEnvironment, seededEnvironment } from '../env.js';

export type Direction = 'toServer' | 'toClient';
/** Return the chunks to deliver instead of `bytes` ([] drops it). */
export type Tamper = (direction: Direction, bytes: Uint8Array, index: number) => Uint8Array[];

export interface TestIdentity {
  certPem: string;
  keyPem: string;
  certified: CertifiedKey;
}

export async function makeIdentity(keyType: KeyType = 'ecdsa-p256', dnsNames = ['localhost']): Promise<TestIdentity> {
  const { certPem, keyPem } = await generateSelfSigned({ keyType, dnsNames, ips: ['127.0.0.1'] });
  return { certPem, keyPem, certified: { chain: pemToDerList(certPem), key: signingKeyFromPem(keyPem) } };
}

export interface PairOptions {
  client?: Partial<ClientConfig>;
  server?: Partial<ServerConfig>;
  clientMachine?: typeof clientMachine;
  serverMachine?: typeof serverMachine;
  /** Default: a MemoryTicketStore on the pair's clock. */
  store?: TicketStore;
  identity: TestIdentity;
  env?: SeededEnvironment;
  /** The server's own environment (its randomness, clock and crypto provider); default: `env`. */
  serverEnv?: Environment;
  /** The client's own environment (e.g. another crypto provider); default `env`. */
  clientEnv?: SeededEnvironment;
  tamper?: Tamper;
  seed?: string;
}

export interface Pair {
  store: TicketStore;
  client: ClientConnection;
  server: ServerConnection;
  env: SeededEnvironment;
  /** Sessions the client received, in order. */
  sessions: ClientSession[];
  clientTrace: TraceEntry[];
  serverTrace: TraceEntry[];
  received: { client: Uint8Array[]; server: Uint8Array[] };
  /** Deliver everything in flight until both sides are quiet. */
  run(): Promise<void>;
}

export function makePair(opts: PairOptions): Pair {
  const env = opts.env ?? seededEnvironment(opts.seed ?? 'tlschart', Date.now());
  const store = opts.store ?? new MemoryTicketStore({ now: () => env.now() });
  const server = new ServerConnection({
    ...defaultServerConfig({ certificates: [opts.identity.certified], ...opts.server }),
    env: opts.serverEnv ?? env,
    ticketStore: store,
    ...(opts.serverMachine ? { machine: opts.serverMachine } : {}),
  });
  const client = new ClientConnection({
    ...defaultClientConfig({ serverName: 'localhost', ...opts.client }),
    env: opts.clientEnv ?? env,
    ...(opts.clientMachine ? { machine: opts.clientMachine } : {}),
  });
  const pending: Array<[Direction, Uint8Array]> = [];
  const sessions: ClientSession[] = [];
  const clientTrace: TraceEntry[] = [];
  const serverTrace: TraceEntry[] = [];
  const received = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
  let index = 0;
  client.on('output', (b) => pending.push(['toServer', b]));
  server.on('output', (b) => pending.push(['toClient', b]));
  client.on('session', (s) => sessions.push(s));
  client.on('trace', (e) => clientTrace.push(e));
  server.on('trace', (e) => serverTrace.push(e));
  client.on('data', (d) => received.client.push(d));
  server.on('data', (d) => received.server.push(d));
  // Errors are inspected through `.error`; listening keeps EventEmitter from throwing them.
  client.on('error', () => undefined);
  server.on('error', () => undefined);
  const run = async () => {
    for (let rounds = 0; rounds < 10_000; rounds++) {
      await client.settled();
      await server.settled();
      const next = pending.shift();
      if (!next) {
        await client.settled();
        await server.settled();
        if (pending.length === 0) return;
        continue;
      }
      const [dir, bytes] = next;
      const chunks = opts.tamper ? opts.tamper(dir, bytes, index++) : [bytes];
      for (const c of chunks) await (dir === 'toServer' ? server : client).receive(c);
    }
    throw new Error('pair did not settle');
  };
  return { store, client, server, env, sessions, clientTrace, serverTrace, received, run };
}
