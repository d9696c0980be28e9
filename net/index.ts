/** Node sockets for tlschart: a node:tls-style client (connect) and server (createServer). */

export { type PeerCertificate, peerCertificateObject } from './certificate.js';
export { type ConnectOptions, connect, prepareClient } from './connect.js';
export type { Inspect, InspectorHandle, ObserveOptions, TraceCollectorLike } from './observe.js';
export { EPHEMERAL_KEY_INFO, type PemInput, parseCipherSuites, parseGroups } from './options.js';
export { createServer, Server, type ServerOptions } from './server.js';
export {
  type CipherInfo,
  closedDuringHandshake,
  type EphemeralKeyInfo,
  type KeylogSink,
  TLSSocket,
  type TlsConnection,
} from './socket.js';
