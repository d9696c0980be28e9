/**
 * Key logs, kept apart from traces: the engine emits one NSS key log line
 * (SSLKEYLOGFILE format: `LABEL <client_random hex> <secret hex>`) per
 * traffic secret; these helpers send them to a callback or append them to a
 * file. Only an explicit `--keylog FILE` or `keylog` option does this.
 */
import { appendFileSync } from 'node:fs';
import type { AnyConnection } from './recorder.js';

/** Forward a connection's key log lines; returns a function that stops forwarding. */
export function keylogTo(conn: AnyConnection, write: (line: string) => void): () => void {
  const on = (line: string) => write(line);
  conn.on('keylog', on);
  return () => conn.off('keylog', on);
}

/** Append a connection's key log lines to `path` (created if absent), as Wireshark reads them. */
export function appendKeylog(conn: AnyConnection, path: string): () => void {
  return keylogTo(conn, (line) => appendFileSync(path, line, { mode: 0o600 }));
}

/** NSS key log line shape: label, 32-byte client random, secret (RFC 8446 labels). */
export const KEYLOG_LINE =
  /^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}\n$/;
