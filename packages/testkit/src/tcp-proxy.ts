// A TCP relay between a client under test and a real server, on a free
// loopback port: it counts connections (one syncstate TLS request each), and
// can be taken down (the port refuses connections) and brought back, or
// pointed at another server, to test how a client copes with an upstream
// that goes away. Bytes pass untouched; TLS is end to end.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted since start. */
  readonly connections: number;
  /** Where new connections go. */
  target: number;
  /** Closes the port and cuts every relayed connection: connects are refused until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let server: Server | undefined;
  let port = 0;
  const proxy = {
    target,
    get port() {
      return port;
    },
    get connections() {
      return connections;
    },
    async up() {
      if (server !== undefined) return;
      const s = createServer((client) => {
        connections++;
        const upstream = connect(proxy.target, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
          socket.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      port = (s.address() as { port: number }).port;
      server = s;
    },
    async down() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    close() {
      return proxy.down();
    },
  };
  await proxy.up();
  return proxy;
}
