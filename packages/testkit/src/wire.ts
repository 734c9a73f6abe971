/**
 * Raw protocol access for tests: arbitrary bytes over TLS (hostile clients),
 * and well-formed requests encoded with @syncstate-ts/codec.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { decodeResponse, encodeFrame, encodeRequestWrapper, type Request, type Response } from '@syncstate-ts/codec';

export interface RawResult {
  /** Everything the server sent. */
  bytes: Buffer;
  /** How the connection ended: closed by the server, failed, or still open when we gave up. */
  outcome: 'closed' | 'error' | 'timeout';
  error?: string;
}

export interface RawOptions {
  /** Give up (and destroy our side) after this long. Default 5 s. */
  timeoutMs?: number;
  /** End our side after writing. Default false (like the Rust client). */
  endAfterWrite?: boolean;
  tlsVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** Sends `bytes` over TLS (trusting `ca`), collects the answer until the server closes. */
export function rawTls(port: number, ca: string, bytes: Uint8Array, options: RawOptions = {}): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connectTls({
      host: '127.0.0.1',
      port,
      ca,
      servername: 'localhost',
      ...(options.tlsVersion ? { minVersion: options.tlsVersion, maxVersion: options.tlsVersion } : {}),
    });
    const finish = (outcome: RawResult['outcome'], error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), outcome, ...(error === undefined ? {} : { error }) });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 5_000);
    socket.once('secureConnect', () => {
      if (bytes.length > 0) socket.write(bytes);
      if (options.endAfterWrite) socket.end();
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', (e) => finish('error', e.message));
  });
}

/** A decoded answer, or null when the server closed without one. */
export async function request(
  port: number,
  ca: string,
  password: string,
  req: Request,
  options: RawOptions = {},
): Promise<Response | null> {
  const result = await rawTls(port, ca, frameRequest(password, req), options);
  if (result.bytes.length === 0) return null;
  return decodeResponse(unframeResponse(result.bytes));
}

export function frameRequest(password: string, req: Request): Uint8Array {
  return encodeFrame(encodeRequestWrapper({ password: new TextEncoder().encode(password), request: req }));
}

/** The body of a complete response frame; throws when it is incomplete. */
export function unframeResponse(bytes: Buffer): Buffer {
  if (bytes.length < 4) throw new Error(`incomplete response: ${bytes.length} bytes`);
  const length = bytes.readUInt32BE(0);
  if (bytes.length < 4 + length) throw new Error(`incomplete response: ${bytes.length - 4} of ${length} bytes`);
  return bytes.subarray(4, 4 + length);
}

/** A plain TCP connection that never speaks (no TLS handshake). */
export function silentTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves when `socket` is closed by the other side (or after `timeoutMs`, with false). */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}
