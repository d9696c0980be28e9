/**
 * A client on one crypto provider and a server on the other: every cipher
 * suite with every group, a full handshake and then a resumption with one of
 * its tickets; and client authentication, where each side signs with its own
 * provider and the other verifies. (RFC 8446 §4.2.8, §4.4.3, §4.6.1.)
 */
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../crypto/noble.js';
import { SUPPORTED_SUITES, suiteInfo } from '../crypto/suites.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { pemToDerList } from '../pki/pem.js';
import { chainVerifier } from './config.js';
import { GROUP_NAMES } from './connection.js';
import { seededEnvironment } from './env.js';
import { makeIdentity, makePair, type TestIdentity } from './testing/pair.js';

const MIXED = PROVIDER_CASES.flatMap((client) => PROVIDER_CASES.filter((s) => s !== client).map((server) => ({ client, server })));

describe.each(MIXED)('a $client.name client and a $server.name server', ({ client, server }) => {
  /** The identity with its key loaded by the server's provider. */
  const identityOn = async (keyType: 'ecdsa-p256' | 'ed25519' | 'rsa-2048'): Promise<TestIdentity> => {
    const id = await makeIdentity(keyType);
    return { ...id, certified: { chain: id.certified.chain, key: server.provider.loadSigningKey(id.keyPem) } };
  };

  it('complete a full handshake and a resumption with every suite and every group', async () => {
    const identity = await identityOn('ecdsa-p256');
    // Every group the server's provider offers is tried; each the client's provider can do must work.
    const groups = server.provider.groups.filter((g) => client.provider.groups.includes(g));
    expect(groups.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    for (const suite of SUPPORTED_SUITES) {
      for (const group of groups) {
        const env = seededEnvironment(`mixed/${suite}/${group}`, Date.now(), server.provider);
        const clientEnv = seededEnvironment(`mixed/${suite}/${group}/client`, Date.now(), client.provider);
        const config = { cipherSuites: [suite], groups: [group], keyShareGroups: [group] };
        const first = makePair({
          identity,
          env,
          clientEnv,
          client: { ...config, verifyServerChain: chainVerifier({ ca: identity.certPem, serverName: 'localhost', purpose: 'server' }) },
          server: config,
        });
        await first.run();
        const name = `${suiteInfo(suite)?.name} ${GROUP_NAMES[group] ?? group}`;
        expect({
          name,
          client: first.client.state,
          server: first.server.state,
          error: first.client.error?.message ?? first.server.error?.message,
        }).toEqual({
          name,
          client: 'connected',
          server: 'connected',
          error: undefined,
        });
        const session = first.sessions[0];
        expect(session, `${name}: a ticket`).toBeDefined();
        const second = makePair({ identity, env, clientEnv, store: first.store, client: { ...config, session }, server: config });
        await second.run();
        expect({ name, resumed: second.client.info?.resumed, serverResumed: second.server.info?.resumed }).toEqual({
          name,
          resumed: true,
          serverResumed: true,
        });
        expect(second.client.info?.group).toBe(GROUP_NAMES[group]);
        seen.push(name);
      }
    }
    expect(seen).toHaveLength(SUPPORTED_SUITES.length * groups.length);
  });

  it.each(['ed25519', 'rsa-2048'] as const)(
    'authenticate both ways with %s certificates, each signing on its own provider',
    async (keyType) => {
      const identity = await identityOn(keyType);
      const clientId = await makeIdentity(keyType);
      const clientCertificate = { chain: pemToDerList(clientId.certPem), key: client.provider.loadSigningKey(clientId.keyPem) };
      const env = seededEnvironment(`mixed-auth/${keyType}`, Date.now(), server.provider);
      const clientEnv = seededEnvironment(`mixed-auth/${keyType}/client`, Date.now(), client.provider);
      const p = makePair({
        identity,
        env,
        clientEnv,
        client: { clientCertificate },
        server: {
          requestClientCertificate: true,
          requireClientCertificate: true,
          verifyClientChain: chainVerifier({ ca: clientId.certPem, purpose: 'client' }),
        },
      });
      await p.run();
      expect([p.client.state, p.server.state]).toEqual(['connected', 'connected']);
      expect(p.server.info?.peerCertificates).toHaveLength(1);
    },
  );
});

describe('the mixed pairs', () => {
  it('are both directions between @noble and node:crypto', () => {
    expect(MIXED.map((m) => `${m.client.name}->${m.server.name}`).sort()).toEqual(['noble->node', 'node->noble']);
    expect(PROVIDER_CASES.some((c) => c.provider === nobleProvider)).toBe(true);
  });
});
