/** A ticket as a probe client holds it, for the audit tests that need one without a server: fixed bytes, TLS_AES_128_GCM_SHA256. */
import { type SuiteInfo, suiteByName } from '../../crypto/suites.js';
import type { ProbeTicket } from '../probe/client.js';

/** A held ticket (ticket bytes 7…, PSK bytes 9…, lifetime 7200 s, for localhost), with `o` taking the place of any field. */
export function heldTicket(o: Partial<ProbeTicket> = {}): ProbeTicket {
  return {
    ticket: new Uint8Array(32).fill(7),
    nonce: new Uint8Array(8),
    lifetimeS: 7200,
    ticketAgeAdd: 1,
    maxEarlyDataSize: undefined,
    extensions: [],
    psk: new Uint8Array(32).fill(9),
    suite: suiteByName('TLS_AES_128_GCM_SHA256') as SuiteInfo,
    receivedAtMs: Date.now(),
    serverName: 'localhost',
    alpn: undefined,
    afterFinishedMs: 0,
    origin: 'test',
    ...o,
  };
}
