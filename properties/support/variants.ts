/**
 * Misbehaving peers, by name (so a saved counterexample can rebuild them):
 * each is the real chart with one action rewritten through
 * engine/testing/probes.ts, and the rest of the protocol real.
 */

import {
  clientFlightProbe,
  flipLastBit,
  insertBefore,
  mapMessage,
  rewriteMessage,
  serverFlightProbe,
} from '../../engine/testing/probes.js';
import { clientMachine } from '../../machines/client/machine.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { Command } from '../../machines/types.js';
import { encodeHandshake } from '../../wire/handshake.js';
import type { Certificate, CertificateVerify, EncryptedExtensions } from '../../wire/types.js';
import { SignatureScheme } from '../../wire/types.js';
import type { AttackKind } from './alerts.js';
import type { Identities } from './identities.js';
import { earlyDataClient, pskKeOnlyClient } from './material.js';

export type ClientVariant =
  | 'honest'
  | 'pskKeOnly'
  | 'earlyData'
  | 'endOfEarlyData'
  | 'appDataBeforeFinished'
  | 'flippedFinished'
  | 'flippedSignature'
  | 'signatureSchemeMismatch'
  | 'skipCertificate'
  | 'untrustedCertificate';

export type ServerVariant =
  | 'honest'
  | 'certificateAfterPsk'
  | 'flippedFinished'
  | 'flippedSignature'
  | 'signatureSchemeMismatch'
  | 'skipCertificateVerify'
  | 'skipCertificate'
  | 'acceptedEarlyData'
  | 'untrustedCertificate';

/** What each variant stands for in the alert table ('honest' and the tolerated ones have no entry). */
export const CLIENT_VARIANT_ATTACK: Record<ClientVariant, AttackKind | undefined> = {
  honest: undefined,
  pskKeOnly: 'pskKeOnly',
  earlyData: 'earlyData',
  endOfEarlyData: 'endOfEarlyData',
  appDataBeforeFinished: 'appDataBeforeFinished',
  flippedFinished: 'flippedFinished',
  flippedSignature: 'flippedSignature',
  signatureSchemeMismatch: 'signatureSchemeMismatch',
  skipCertificate: 'skippedMessage',
  untrustedCertificate: 'untrustedCertificate',
};

export const SERVER_VARIANT_ATTACK: Record<ServerVariant, AttackKind | undefined> = {
  honest: undefined,
  certificateAfterPsk: 'certificateAfterPsk',
  flippedFinished: 'flippedFinished',
  flippedSignature: 'flippedSignature',
  signatureSchemeMismatch: 'signatureSchemeMismatch',
  skipCertificateVerify: 'skippedMessage',
  skipCertificate: 'skippedMessage',
  acceptedEarlyData: 'acceptedEarlyData',
  untrustedCertificate: 'untrustedCertificate',
};

const drop = (name: string) => (cmds: Command[]) => cmds.filter((c) => !(c.kind === 'sendHandshake' && c.name === name));

const wrongScheme = (raw: Uint8Array) =>
  rewriteMessage<CertificateVerify>(raw, (cv) => ({
    ...cv,
    // A scheme that fits neither an ed25519 nor a P-256 key's CertificateVerify as signed.
    algorithm: cv.algorithm === SignatureScheme.ed25519 ? SignatureScheme.ecdsa_secp256r1_sha256 : SignatureScheme.ed25519,
  }));

/** Send a certificate nobody trusts (the stranger's), keeping everything else. */
const strangerChain = (ids: Identities) =>
  mapMessage('certificate', (raw) =>
    rewriteMessage<Certificate>(raw, (c) =>
      c.entries.length === 0 ? c : { ...c, entries: ids.stranger.certified.chain.map((certData) => ({ certData, extensions: [] })) },
    ),
  );

export function clientChart(variant: ClientVariant, ids: Identities, base: typeof clientMachine = clientMachine): typeof clientMachine {
  switch (variant) {
    case 'untrustedCertificate':
      return clientFlightProbe(strangerChain(ids));
    case 'honest':
      return base;
    case 'pskKeOnly':
      return pskKeOnlyClient;
    case 'earlyData':
      return earlyDataClient;
    case 'endOfEarlyData':
      return clientFlightProbe(insertBefore('finished', encodeHandshake({ type: 'end_of_early_data' })));
    case 'appDataBeforeFinished':
      return clientFlightProbe((cmds) => {
        const i = cmds.findIndex((c) => c.kind === 'sendHandshake' && c.name === 'finished');
        const data: Command = { kind: 'sendApplicationData', data: new TextEncoder().encode('before-finished') };
        return i < 0 ? cmds : [...cmds.slice(0, i), data, ...cmds.slice(i)];
      });
    case 'flippedFinished':
      return clientFlightProbe(mapMessage('finished', flipLastBit));
    case 'flippedSignature':
      return clientFlightProbe(mapMessage('certificate_verify', flipLastBit));
    case 'signatureSchemeMismatch':
      return clientFlightProbe(mapMessage('certificate_verify', wrongScheme));
    case 'skipCertificate':
      return clientFlightProbe((cmds) => drop('certificate_verify')(drop('certificate')(cmds)));
  }
}

export function serverChart(variant: ServerVariant, ids: Identities, base: typeof serverMachine = serverMachine): typeof serverMachine {
  switch (variant) {
    case 'honest':
      return base;
    case 'certificateAfterPsk':
      return serverFlightProbe(
        insertBefore(
          'finished',
          encodeHandshake<Certificate>({
            type: 'certificate',
            certificateRequestContext: new Uint8Array(0),
            entries: ids.server.certified.chain.map((certData) => ({ certData, extensions: [] })),
          }),
        ),
      );
    case 'flippedFinished':
      return serverFlightProbe(mapMessage('finished', flipLastBit));
    case 'flippedSignature':
      return serverFlightProbe(mapMessage('certificate_verify', flipLastBit));
    case 'signatureSchemeMismatch':
      return serverFlightProbe(mapMessage('certificate_verify', wrongScheme));
    case 'skipCertificateVerify':
      return serverFlightProbe(drop('certificate_verify'));
    case 'skipCertificate':
      return serverFlightProbe((cmds) => drop('certificate_verify')(drop('certificate')(cmds)));
    case 'untrustedCertificate':
      return serverFlightProbe(strangerChain(ids));
    case 'acceptedEarlyData':
      return serverFlightProbe(
        mapMessage('encrypted_extensions', (raw) =>
          rewriteMessage<EncryptedExtensions>(raw, (ee) => ({ ...ee, extensions: [...ee.extensions, { type: 'early_data' }] })),
        ),
      );
  }
}
