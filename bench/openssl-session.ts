/**
 * Whether a session file `openssl s_client -sess_out` wrote holds a TLS 1.3
 * ticket: `openssl sess_id -text` prints "TLS session ticket:" for one (a
 * client that closed before any NewSessionTicket arrived saves a session
 * without it). Shared by bench/ticket-race.ts and the serve ticket-race
 * interop test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function sessionHoldsTicket(sessFile: string, openssl = 'openssl'): boolean {
  if (!existsSync(sessFile)) return false;
  const text = spawnSync(openssl, ['sess_id', '-in', sessFile, '-text', '-noout'], { encoding: 'utf8' });
  return text.status === 0 && text.stdout.includes('TLS session ticket:');
}
