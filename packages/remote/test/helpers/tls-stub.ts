/**
 * A tiny TLS server on 127.0.0.1:0 whose behaviour each test scripts: never
 * answer, answer byte by byte, announce a huge frame, hang up mid-frame...
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { CertificateAndKey } from '@syncstate-ts/server';

export interface StubServer {
  port: number;
  server: tls.Server;
  /** Sockets accepted so far (TLS established). */
  readonly accepted: tls.TLSSocket[];
  close(): Promise<void>;
}

export async function startTlsStub(
  identity: CertificateAndKey,
  onSecureConnection: (socket: tls.TLSSocket) => void,
  options: tls.TlsOptions = {},
): Promise<StubServer> {
  const accepted: tls.TLSSocket[] = [];
  const server = tls.createServer({ ...options, cert: identity.cert, key: identity.key }, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {}); // the client destroying its side is expected
    onSecureConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain TCP server that accepts and never speaks (a stuck TLS handshake). */
export async function startSilentTcp(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads one request frame (u32 BE length + payload) from a socket. */
export function readRequestFrame(socket: tls.TLSSocket): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length >= 4 + len) {
          socket.off('data', onData);
          resolve(new Uint8Array(buf.subarray(4, 4 + len)));
        }
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}
