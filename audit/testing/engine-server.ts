/**
 * A tlschart server engine on a loopback TCP port, with any server chart
 * (`serverMachine.provide(...)` mutants) and any ticket store: the audit
 * reaches it exactly as it reaches any other server.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { defaultServerConfig } from '../../engine/config.js';
import { ServerConnection, type ServerOptions } from '../../engine/connection.js';
import { systemEnvironment } from '../../engine/env.js';
import type { serverMachine } from '../../machines/server/machine.js';
import type { CertifiedKey, ServerConfig } from '../../machines/types.js';
import { MemoryTicketStore } from '../../tickets/memory-store.js';
import type { TicketStore } from '../../tickets/types.js';

export interface EngineServer {
  port: number;
  stop(): Promise<void>;
}

export async function startEngineServer(o: {
  certificates: CertifiedKey[];
  machine?: typeof serverMachine;
  ticketStore?: TicketStore;
  config?: Partial<ServerConfig>;
  /** Another server engine (an engine-level mutant), given the options and the ticket store. */
  connection?: (options: ServerOptions, store: TicketStore) => ServerConnection;
}): Promise<EngineServer> {
  const store = o.ticketStore ?? new MemoryTicketStore();
  const config = defaultServerConfig({ certificates: o.certificates, ...o.config });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const options: ServerOptions = {
      ...config,
      env: systemEnvironment(),
      ticketStore: store,
      ...(o.machine ? { machine: o.machine } : {}),
    };
    const conn = o.connection ? o.connection(options, store) : new ServerConnection(options);
    conn.on('output', (b) => {
      if (!socket.destroyed) socket.write(b);
    });
    // The engine is done (failed with its alert sent, or closed): so is the socket.
    conn.on('error', () => socket.end());
    conn.on('close', () => socket.end());
    conn.on('end', () => void conn.close());
    socket.on('data', (d: Buffer) => void conn.receive(new Uint8Array(d)));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
