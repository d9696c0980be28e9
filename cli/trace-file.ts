/**
 * The --trace file: every trace entry of every connection, as JSON.
 * Provisional format (another issue defines the final one):
 *   { "version": 1, "connections": [ { "role": "client" | "server", "entries": [TraceEntry, ...] } ] }
 * Byte arrays are written as lowercase hex strings.
 */
import { writeFileSync } from 'node:fs';
import { toHex } from '../crypto/bytes.js';
import type { TraceEntry } from '../engine/connection.js';

export interface TraceConnection {
  role: 'client' | 'server';
  entries: TraceEntry[];
}

export interface TraceFile {
  version: 1;
  connections: TraceConnection[];
}

export function traceJson(connections: readonly TraceConnection[]): string {
  const file: TraceFile = { version: 1, connections: [...connections] };
  return JSON.stringify(file, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = key === '' ? value : this[key];
    return original instanceof Uint8Array ? toHex(original) : value;
  });
}

export function writeTraceFile(path: string, connections: readonly TraceConnection[]): void {
  writeFileSync(path, traceJson(connections) + '\n');
}
