/** Argument parsing with node:util parseArgs; every mistake is a UsageError with one line. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** The options demo, serve and connect share: what to record and where to watch. */
export const OBSERVE_OPTIONS: Options = {
  trace: { type: 'string' },
  keylog: { type: 'string' },
  inspect: { type: 'boolean' },
  'inspect-url': { type: 'string' },
};

/** --crypto: which crypto provider the sockets of demo, serve and connect run on. */
export const CRYPTO_OPTIONS: Options = {
  crypto: { type: 'string' },
};

/** The help line of --crypto, as each command prints it (`pad` aligns the description). */
export function cryptoHelp(pad: number): string {
  const lead = '  --crypto NAME'.padEnd(pad);
  const indent = ' '.repeat(pad);
  return `${lead}crypto provider: node (node:crypto, OpenSSL; the default)
${indent}or noble (pure JavaScript @noble; deterministic ECDSA)
`;
}

/** The value of --crypto: 'node' (default) or 'noble'; anything else is a usage error. */
export function cryptoOption(command: string, values: Parsed['values']): 'node' | 'noble' {
  const v = values.crypto;
  if (v === undefined) return 'node';
  if (v === 'node' || v === 'noble') return v;
  throw new UsageError(`${command}: --crypto must be node or noble, got ${JSON.stringify(v)}`);
}

/** Parse `argv` for `command`; --help is always accepted. */
export function parse(command: string, argv: readonly string[], options: Options, maxPositionals: number): Parsed {
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${command}: ${describeParseError(e as Error & { code?: string })} (see tlschart ${command} --help)`);
  }
  if (!result.values.help && result.positionals.length > maxPositionals) {
    throw new UsageError(
      `${command}: unexpected argument ${JSON.stringify(result.positionals[maxPositionals])} (see tlschart ${command} --help)`,
    );
  }
  return { values: result.values as Parsed['values'], positionals: result.positionals };
}

function describeParseError(e: Error & { code?: string }): string {
  const option = /'(-[^']*)'/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? e.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option ? `option ${option.split(' ')[0]} needs a value` : e.message;
    default:
      return e.message;
  }
}

/** An integer option within [min, max], or `fallback` when absent. */
export function intOption(command: string, values: Parsed['values'], name: string, min: number, max: number, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^\d+$/.test(v))
    throw new UsageError(`${command}: --${name} must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${command}: --${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function stringOption(values: Parsed['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A comma-separated list option ("h2,http/1.1"). */
export function listOption(values: Parsed['values'], name: string): string[] | undefined {
  const v = stringOption(values, name);
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}
