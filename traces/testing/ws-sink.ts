/**
 * A minimal WebSocket server for tests (RFC 6455 handshake, masked text
 * frames from the client, no fragmentation): it only collects the text
 * messages a client sends, so the Stately WebSocket inspector can be checked
 * end to end on 127.0.0.1 without another dependency.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WsSink {
  url: string;
  messages: string[];
  close(): Promise<void>;
}

export async function startWsSink(): Promise<WsSink> {
  const messages: string[] = [];
  const sockets = new Set<Duplex>();
  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket: Duplex) => {
    sockets.add(socket);
    const key = req.headers['sec-websocket-key'];
    const accept = createHash('sha1')
      .update(`${String(key)}${GUID}`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = (buf[0] as number) & 0x0f;
        let len = (buf[1] as number) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const masked = ((buf[1] as number) & 0x80) !== 0;
        const maskLen = masked ? 4 : 0;
        if (buf.length < off + maskLen + len) return;
        const mask = buf.subarray(off, off + maskLen);
        const payload = Buffer.from(buf.subarray(off + maskLen, off + maskLen + len));
        if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
        buf = buf.subarray(off + maskLen + len);
        if (opcode === 0x1) messages.push(payload.toString('utf8'));
        if (opcode === 0x8) socket.end();
      }
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
