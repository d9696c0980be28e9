/**
 * Test identities shared by the property suites: made once per worker
 * (certificate generation costs more than a handshake), real keys and
 * certificates from pki/generate.
 */
import { chainVerifier } from '../../engine/config.js';
import { makeIdentity, type TestIdentity } from '../../engine/testing/pair.js';
import type { ChainVerifier } from '../../machines/types.js';

export interface Identities {
  /** The server's certificate (ed25519: the cheapest real signature). */
  server: TestIdentity;
  /** A second server certificate with another key type (ECDSA P-256). */
  serverP256: TestIdentity;
  /** A certificate nobody trusts (another self-signed key for the same name). */
  stranger: TestIdentity;
  /** The client's certificate for client authentication. */
  client: TestIdentity;
  /** Trusts exactly `server` and `serverP256` for localhost. */
  verifyServer: ChainVerifier;
  /** Trusts exactly `client`. */
  verifyClient: ChainVerifier;
}

let cached: Promise<Identities> | undefined;

export function identities(): Promise<Identities> {
  cached ??= (async () => {
    const [server, serverP256, stranger, client] = await Promise.all([
      makeIdentity('ed25519', ['localhost', 'other.example']),
      makeIdentity('ecdsa-p256', ['localhost', 'other.example']),
      makeIdentity('ed25519', ['localhost', 'other.example']),
      makeIdentity('ed25519', ['client.example']),
    ]);
    return {
      server,
      serverP256,
      stranger,
      client,
      verifyServer: chainVerifier({ ca: [server.certPem, serverP256.certPem], purpose: 'server' }),
      verifyClient: chainVerifier({ ca: client.certPem, purpose: 'client' }),
    };
  })();
  return cached;
}
