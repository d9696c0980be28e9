/**
 * Reading an NSS key log (SSLKEYLOGFILE): one secret a line,
 *
 *   <label> <client_random, 64 hex digits> <secret, hex>
 *
 * with `#` comments and blank lines. The TLS 1.3 labels name the secrets of
 * RFC 8446 §7.1 for the connection whose ClientHello.random is given. TLS 1.2
 * lines (CLIENT_RANDOM, RSA) are counted but not used: tlschart imports TLS 1.3.
 */
import { fromHex } from '../../crypto/bytes.js';

export const TLS13_LABELS = [
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EARLY_EXPORTER_SECRET',
  'EXPORTER_SECRET',
] as const;
export type Tls13Label = (typeof TLS13_LABELS)[number];

export type ConnectionSecrets = Partial<Record<Tls13Label, Uint8Array>>;

export interface KeyLog {
  /** Secrets by client random (lowercase hex). */
  byClientRandom: Map<string, ConnectionSecrets>;
  /** TLS 1.3 secrets read. */
  secrets: number;
  /** TLS 1.2 lines (CLIENT_RANDOM, RSA), not used. */
  tls12Lines: number;
  /** Lines that are not key log lines, by line number. */
  problems: string[];
}

const LINE = /^([A-Z0-9_]+) ([0-9a-fA-F]{64}) ([0-9a-fA-F]+)$/;
const TLS12 = new Set(['CLIENT_RANDOM', 'RSA', 'RSA_SESSION']);

/** Parse key log text (several logs may be concatenated). */
export function parseKeyLog(text: string): KeyLog {
  const log: KeyLog = { byClientRandom: new Map(), secrets: 0, tls12Lines: 0, problems: [] };
  const labels: ReadonlySet<string> = new Set(TLS13_LABELS);
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    const label = m?.[1] ?? line.split(' ')[0] ?? '';
    if (TLS12.has(label)) {
      log.tls12Lines++;
      return;
    }
    if (!m || !labels.has(label) || (m[3] as string).length % 2 !== 0) {
      log.problems.push(`line ${i + 1}: not a TLS 1.3 key log line (${line.length > 40 ? `${line.slice(0, 40)}…` : line})`);
      return;
    }
    const random = (m[2] as string).toLowerCase();
    const entry = log.byClientRandom.get(random) ?? {};
    entry[label as Tls13Label] = fromHex((m[3] as string).toLowerCase());
    log.byClientRandom.set(random, entry);
    log.secrets++;
  });
  return log;
}
