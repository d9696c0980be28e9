/**
 * The chart a captured peer is walked along: every guard of both charts has
 * a rule (a new guard in a chart must get one here), decisions follow what
 * the peer did, and where the peer does what the chart never does the state
 * says so ("kept" where the chart would fail, "forced" where the peer aborted).
 */
import { describe, expect, it } from 'vitest';
import { clientMachine } from '../../machines/client/machine.js';
import { serverMachine } from '../../machines/server/machine.js';
import { TlsError } from '../../wire/alerts.js';
import { GUARD_RULES, ObservedChart } from './observe.js';

const chartGuards = (m: typeof clientMachine | typeof serverMachine) => Object.keys(m.implementations.guards ?? {}).sort();
const common = ['exceedsKeyUpdateLimit', 'hasPeerClosed', 'isCloseNotify', 'isCloseNotifyAfterOurs', 'isUserCanceled'];

describe('the observed chart', () => {
  it('has a rule for every guard of the client and the server chart', () => {
    expect([...Object.keys(GUARD_RULES.client), ...common].sort()).toEqual(chartGuards(clientMachine));
    expect([...Object.keys(GUARD_RULES.server), ...common].sort()).toEqual(chartGuards(serverMachine));
  });

  it('keeps the state where the chart fails but the peer went on, and fails where the peer aborted though the chart goes on', () => {
    const server = new ObservedChart('server');
    const malformed = { type: 'recv.Malformed' as const, error: new TlsError('bad_record_mac', 'BadRecordMac', 'tampered') };
    expect(server.receive(malformed, { aborted: false })).toBe('kept');
    expect(server.state).toBe('expectClientHello');
    // user_canceled is not fatal (RFC 8446 §6.1): the chart stays; this peer answered it with a fatal alert.
    expect(server.receive({ type: 'recv.Alert', level: 1, description: 90 }, { aborted: true })).toBe('forced');
    expect(server.state).toBe('failed');
  });

  it('goes to failed on a fatal alert from the peer without calling that a difference', () => {
    const client = new ObservedChart('client');
    expect(client.receive({ type: 'recv.Alert', level: 2, description: 40 }, { aborted: false })).toBeUndefined();
    expect(client.state).toBe('failed');
  });
});
