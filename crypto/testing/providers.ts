/**
 * The crypto providers every provider-level suite runs on, for
 * `describe.each(PROVIDER_CASES)('… ($name)', ({ provider }) => …)`.
 */
import { nobleProvider } from '../noble.js';
import { nodeProvider } from '../node-provider.js';
import type { CryptoProvider } from '../provider.js';

export interface ProviderCase {
  name: string;
  provider: CryptoProvider;
}

export const PROVIDER_CASES: readonly ProviderCase[] = [
  { name: 'noble', provider: nobleProvider },
  { name: 'node', provider: nodeProvider },
];

/** Every ordered pair (client provider, server provider), mixed pairs included. */
export const PROVIDER_PAIRS: ReadonlyArray<{ client: ProviderCase; server: ProviderCase }> = PROVIDER_CASES.flatMap((client) =>
  PROVIDER_CASES.map((server) => ({ client, server })),
);
