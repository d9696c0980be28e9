/**
 * What a probe connects to: the one named target (host:port over TCP), or a
 * tlschart server engine in memory (the chart's own reaction, for
 * comparison). An audit holds exactly one target and opens every connection
 * through it, so nothing but the named target is ever contacted.
 */

import { defaultServerConfig } from '../../engine/config.js';
import { ServerConnection } from '../../engine/connection.js';
import { systemEnvironment } from '../../engine/env.js';
import type { serverMachine } from '../../machines/server/machine.js';
import type { CertifiedKey, ServerConfig } from '../../machines/types.js';
import { MemoryTicketStore } from '../../tickets/memory-store.js';
import type { TicketStore } from '../../tickets/types.js';
import { EngineTransport, type Transport, tcpTransport } from './transport.js';

export interface Target {
  /** host:port, as the auditor named it (or a description of the in-memory server). */
  readonly label: string;
  open(timeoutMs: number): Promise<Transport>;
}

/** Parse HOST:PORT (IPv6 as [addr]:port). */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1] as string, port };
}

export function tcpTarget(host: string, port: number): Target {
  const label = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { label, open: (timeoutMs) => tcpTransport(host, port, timeoutMs) };
}

export interface EngineTargetOptions {
  certificates: CertifiedKey[];
  config?: Partial<ServerConfig>;
  /** Another server chart (a mutant or a probe variant). */
  machine?: typeof serverMachine;
  ticketStore?: TicketStore;
  label?: string;
}

/**
 * A tlschart server engine in memory, one fresh connection per `open`, all
 * sharing one ticket store (as the connections of one `tlschart serve`).
 */
export function engineTarget(options: EngineTargetOptions): Target {
  const store = options.ticketStore ?? new MemoryTicketStore();
  const config = defaultServerConfig({ certificates: options.certificates, ...options.config });
  return {
    label: options.label ?? 'tlschart server engine (in memory)',
    open: async () => {
      const server = new ServerConnection({
        ...config,
        env: systemEnvironment(),
        ticketStore: store,
        ...(options.machine ? { machine: options.machine } : {}),
      });
      return new EngineTransport(server);
    },
  };
}
