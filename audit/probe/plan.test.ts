import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import type { CertifiedKey } from '../../machines/types.js';
import { certifiedKey } from '../../net/options.js';
import { generateSelfSigned } from '../../pki/generate.js';
import { checkTrace } from '../../traces/monitor.js';
import { ProbeConnection, type ProbeTicket } from './client.js';
import { makeHello } from './hellos.js';
import { applyMutations, BASE_PLAN, mutationsArbitrary, PLAN_MESSAGES, type PlanMessage, runPlan } from './plan.js';
import { engineTarget, type Target } from './target.js';
import { probeTrace } from './trace.js';

let target: Target;

beforeAll(async () => {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'] });
  const cert: CertifiedKey = certifiedKey(g.certPem, g.keyPem, 'test', nobleProvider);
  target = engineTarget({ certificates: [cert] });
});

const open = async (label: string) =>
  new ProbeConnection({
    transport: await target.open(5000),
    deadline: Date.now() + 10_000,
    label,
    serverName: 'localhost',
    alpn: undefined,
  });

async function ticket(): Promise<ProbeTicket> {
  const c = await open('full');
  c.sendHello(makeHello({ serverName: 'localhost' }));
  await c.readFlight();
  c.sendFinished();
  await c.collectTickets(1, 2000);
  await c.finish();
  const t = c.tickets[0];
  if (!t) throw new Error('no ticket');
  return t;
}

async function run(plan: PlanMessage[]) {
  const c = await open(plan.join(','));
  const reaction = await runPlan(c, plan, await ticket(), { serverName: 'localhost' });
  return {
    reaction,
    trace: probeTrace(c.log, {
      target: target.label,
      label: plan.join(', '),
      scenario: 'test',
      description: 'test',
      startedAt: Date.now(),
    }),
  };
}

describe('plans on the PSK path', () => {
  it('mutate the base path by skipping, repeating, moving and injecting messages', () => {
    expect(applyMutations(BASE_PLAN, [{ kind: 'skip', at: 1 }])).toEqual(['ClientHello', 'ApplicationData']);
    expect(applyMutations(BASE_PLAN, [{ kind: 'repeat', at: 1 }])).toEqual(['ClientHello', 'Finished', 'Finished', 'ApplicationData']);
    expect(applyMutations(BASE_PLAN, [{ kind: 'move', from: 2, to: 1 }])).toEqual(['ClientHello', 'ApplicationData', 'Finished']);
    expect(applyMutations(BASE_PLAN, [{ kind: 'inject', message: 'EndOfEarlyData', at: 1 }])).toEqual([
      'ClientHello',
      'EndOfEarlyData',
      'Finished',
      'ApplicationData',
    ]);
  });

  it('generate only the abstract client messages', () => {
    fc.assert(
      fc.property(mutationsArbitrary, (m) => applyMutations(BASE_PLAN, m).every((x) => (PLAN_MESSAGES as readonly string[]).includes(x))),
      { numRuns: 200 },
    );
  });

  it('complete the conforming path without an alert, and its trace conforms', async () => {
    const { reaction, trace } = await run([...BASE_PLAN]);
    expect(reaction).toEqual({ alert: null, connected: true });
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });

  it("get unexpected_message from tlschart's server for an EndOfEarlyData before the Finished, put on that message in the trace", async () => {
    const { reaction, trace } = await run(['ClientHello', 'EndOfEarlyData', 'Finished', 'ApplicationData']);
    expect(reaction.alert).toBe('unexpected_message');
    const steps = trace.handshakes[0]!.sides[0]!.steps.filter((s) => s.direction === 'in');
    expect(steps.map((s) => `${s.message?.type ?? s.kind}:${s.stateAfter}`).slice(0, 3)).toEqual([
      'client_hello:expectClientFinished',
      'end_of_early_data:failed',
      'finished:failed',
    ]);
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });

  it('get unexpected_message for a Finished before any ClientHello', async () => {
    const { reaction } = await run(['Finished', 'ClientHello']);
    expect(reaction.alert).toBe('unexpected_message');
  });
});
