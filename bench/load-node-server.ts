/**
 * The node:tls server of the load benchmark (bench/load.ts), in a process of
 * its own: TLS 1.3, two tickets per handshake (node's default), and an answer
 * to each HTTP request like `openssl s_server -www`, then close.
 *
 *   node dist/bench/load-node-server.js PORT CERT.pem KEY.pem
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

const [port, certPath, keyPath] = process.argv.slice(2);
if (port === undefined || certPath === undefined || keyPath === undefined) {
  console.error('usage: load-node-server PORT CERT KEY');
  process.exit(2);
}

const server = tls.createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath), minVersion: 'TLSv1.3' }, (s) => {
  let head = '';
  s.on('data', (d: Buffer) => {
    head += d.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    const body = `node:tls\nresumed: ${s.isSessionReused() ? 'yes' : 'no'}\n`;
    s.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  s.on('error', () => undefined);
});
server.on('tlsClientError', () => undefined);
server.listen(Number(port), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
