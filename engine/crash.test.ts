import { describe, expect, it } from 'vitest';
import { clientMachine } from '../machines/client/machine.js';
import { makeIdentity, makePair } from './testing/pair.js';
import { flipLastBit, mapMessage, serverFlightProbe } from './testing/probes.js';

describe('an exception inside a chart', () => {
  it('fails the connection with internal_error, sends the alert, and never escapes', async () => {
    // A mutant that accepts any Finished: its action then refuses to mint a witness and throws.
    const p = makePair({
      identity: await makeIdentity(),
      clientMachine: clientMachine.provide({ guards: { isServerFinishedValid: () => true } }),
      serverMachine: serverFlightProbe(mapMessage('finished', flipLastBit)),
    });
    await p.run();
    expect(p.client.state).toBe('failed');
    expect(p.client.error).toMatchObject({ alert: 'internal_error' });
    expect(p.client.error?.message).toMatch(/Finished accepted without verification/);
    expect(p.server.state).toBe('failed');
    expect(p.server.error).toMatchObject({ alert: 'internal_error', remote: true });
  });
});
