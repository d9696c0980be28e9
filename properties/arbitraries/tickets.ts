/**
 * Tickets as the server's store hands them to the chart: the real state of
 * a ticket, or a variant of it — unknown to the store, expired (by a little
 * or a lot), not yet valid (a clock that went back), issued under another
 * name, under a suite with the same or another hash, with a lifetime of 0 —
 * each labelled with whether RFC 8446 (§4.2.11, §4.6.1) still lets it resume.
 */
import fc from 'fast-check';
import { suiteInfo } from '../../crypto/suites.js';
import type { ServerSessionState } from '../../tickets/types.js';
import { CipherSuite } from '../../wire/types.js';

export interface TicketVariant {
  label: string;
  state: ServerSessionState | undefined;
  /** Whether a server whose chosen suite has `hash` may resume with it at `now`, for `sni`. */
  resumable: boolean;
}

export function arbTicketVariant(base: ServerSessionState, now: number, sni: string): fc.Arbitrary<TicketVariant> {
  const hash = suiteInfo(base.suite)?.hash;
  const sameHash = [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256].filter(
    (s) => suiteInfo(s)?.hash === hash && s !== base.suite,
  );
  const end = base.issuedAtMs + base.lifetimeS * 1000;
  return fc.oneof(
    fc.constant({ label: 'the ticket as issued', state: base, resumable: now < end && base.serverName === sni }),
    fc.constant({ label: 'a ticket the store does not know', state: undefined, resumable: false }),
    fc.integer({ min: 0, max: 10 * 86_400_000 }).map((late) => ({
      label: `a ticket expired ${late} ms ago`,
      state: { ...base, issuedAtMs: now - base.lifetimeS * 1000 - late },
      resumable: false,
    })),
    fc.integer({ min: 1, max: 86_400_000 }).map((ahead) => ({
      label: `a ticket issued ${ahead} ms in the future`,
      state: { ...base, issuedAtMs: now + ahead },
      resumable: false,
    })),
    fc
      .constantFrom('other.example', 'LOCALHOST', '')
      .map((name) => ({ label: `a ticket issued for ${JSON.stringify(name)}`, state: { ...base, serverName: name }, resumable: false })),
    fc.constant({ label: 'a ticket with lifetime 0', state: { ...base, lifetimeS: 0 }, resumable: false }),
    fc.constantFrom(...sameHash).map((suite) => ({
      label: `a ticket under 0x${suite.toString(16)} (same hash)`,
      state: { ...base, suite },
      resumable: now < end && base.serverName === sni,
    })),
  );
}
