/** Node sockets for tlschart: a node:tls-style client (connect) and server (createServer). */
export { connect, prepareClient, type ConnectOptions } from './connect.js';
export { createServer, Server, type ServerOptions } from './server.js';
export {
  TLSSocket,
  closedDuringHandshake,
  type CipherInfo,
  type EphemeralKeyInfo,
  type KeylogSink,
  type TlsConnection,
} from './socket.js';
export { type Inspect, type InspectorHandle, type ObserveOptions, type TraceCollectorLike } from './observe.js';
export { peerCertificateObject, type PeerCertificate } from './certificate.js';
export { parseGroups, parseCipherSuites, EPHEMERAL_KEY_INFO, type PemInput } from './options.js';
