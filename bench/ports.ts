/** Loopback ports for the benchmarks that start servers in other processes. */
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago (listened on, then closed). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
