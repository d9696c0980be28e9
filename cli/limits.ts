/**
 * The flags of the protocol limits and timeouts that `serve` and `connect`
 * share (README "Limits"), parsed into the options of net/options.ts.
 */
import type { LimitOptions } from '../net/options.js';
import { intOption, type Parsed } from './args.js';

type Options = Record<string, { type: 'string' }>;

/** --max-handshake-size, --max-handshake-records, --max-empty-records, --max-key-updates, --handshake-timeout. */
export const LIMIT_OPTIONS: Options = {
  'max-handshake-size': { type: 'string' },
  'max-handshake-records': { type: 'string' },
  'max-empty-records': { type: 'string' },
  'max-key-updates': { type: 'string' },
  'handshake-timeout': { type: 'string' },
};

/** Help lines for LIMIT_OPTIONS, aligned with the other options (`width` columns before the text). */
export function limitHelp(width: number, handshakeTimeoutDefault: string): string {
  const pad = ' '.repeat(width);
  // A flag too long for the column gets a line of its own, its text below.
  const line = (flag: string, ...text: string[]) =>
    flag.length <= width - 3
      ? text.map((t, i) => (i === 0 ? `  ${flag.padEnd(width - 2)}${t}\n` : `${pad}${t}\n`)).join('')
      : `  ${flag}\n${text.map((t) => `${pad}${t}\n`).join('')}`;
  return [
    line(
      '--handshake-timeout S',
      `seconds the peer has to complete the handshake`,
      `(${handshakeTimeoutDefault}; 0: never); then close_notify if`,
      'keys exist, and the connection ends',
    ),
    line(
      '--max-handshake-size B',
      'largest handshake message, header included',
      '(default 262144; each type also held to its longest',
      'legal length, a ClientHello to 131400): decode_error',
    ),
    line('--max-handshake-records N', 'most records one handshake message may span', '(default 256): unexpected_message'),
    line('--max-empty-records N', 'most empty application data records in a row', '(default 32): unexpected_message'),
    line('--max-key-updates N', 'most KeyUpdates in a row without application data', '(default 32): unexpected_message'),
  ].join('');
}

/** The limits given on the command line; `handshakeTimeout` in milliseconds. */
export function limitValues(command: string, values: Parsed['values']): LimitOptions & { handshakeTimeout?: number } {
  const out: LimitOptions & { handshakeTimeout?: number } = {};
  const int = (name: string, min: number, max: number): number | undefined =>
    values[name] === undefined ? undefined : intOption(command, values, name, min, max, 0);
  const size = int('max-handshake-size', 4, 16_777_219);
  if (size !== undefined) out.maxHandshakeMessage = size;
  const records = int('max-handshake-records', 1, 1_000_000);
  if (records !== undefined) out.maxHandshakeRecords = records;
  const empty = int('max-empty-records', 0, 1_000_000);
  if (empty !== undefined) out.maxEmptyRecords = empty;
  const updates = int('max-key-updates', 0, 1_000_000);
  if (updates !== undefined) out.maxKeyUpdates = updates;
  const timeout = int('handshake-timeout', 0, 86_400);
  if (timeout !== undefined) out.handshakeTimeout = timeout * 1000;
  return out;
}
