/** Options of TcpStateRemote, and their defaults in one place. */
import { DEFAULT_MAX_FRAME_SIZE } from '@syncstate-ts/codec';
import type { Kind } from '@syncstate-ts/core';
import type { TlsOptions } from './connect.js';

export interface TcpStateRemoteOptions<K, V> {
  /** Server host name or IP (default 127.0.0.1). Alternatively give `address`. */
  host?: string;
  /** Server port (required unless `address` is given). */
  port?: number;
  /** `"host:port"` or `"[ipv6]:port"`, the form Rust's `SocketAddr` parses. */
  address?: string;
  /** TLS settings; `ca` is required, TLS is mandatory in the protocol. */
  tls: TlsOptions;
  /** The server's pre-shared password; a string is sent as its UTF-8 bytes. */
  password: string | Uint8Array;
  /** Key kind of the maps this remote serves (must match the server's K). */
  key: Kind<K>;
  /** Value kind of the maps this remote serves (must match the server's T). */
  value: Kind<V>;
  /** Largest response frame accepted, in bytes (default 16 MiB). */
  maxFrameSize?: number;
  /** TCP connect limit in ms (default 10 000; 0 or Infinity: none). */
  connectTimeoutMs?: number;
  /** TLS handshake limit in ms (default 10 000). */
  handshakeTimeoutMs?: number;
  /** Limit from sending the request to the end of the answer, in ms (default 30 000). */
  responseTimeoutMs?: number;
}

export type { CallOptions } from './call.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;

export interface ResolvedOptions {
  host: string;
  port: number;
  tls: TlsOptions;
  password: Uint8Array;
  maxFrameSize: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  responseTimeoutMs: number;
}

export function resolveOptions<K, V>(options: TcpStateRemoteOptions<K, V>): ResolvedOptions {
  const { host, port } = resolveEndpoint(options);
  const password =
    typeof options.password === 'string' ? new TextEncoder().encode(options.password) : options.password.slice();
  return {
    host,
    port,
    tls: options.tls,
    password,
    maxFrameSize: positive('maxFrameSize', options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE),
    connectTimeoutMs: timeout('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    handshakeTimeoutMs: timeout('handshakeTimeoutMs', options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS),
    responseTimeoutMs: timeout('responseTimeoutMs', options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS),
  };
}

function resolveEndpoint(options: { host?: string; port?: number; address?: string }): { host: string; port: number } {
  if (options.address !== undefined) {
    if (options.host !== undefined || options.port !== undefined) {
      throw new TypeError('give either `address` or `host`/`port`, not both');
    }
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(options.address);
    if (match === null) throw new TypeError(`address ${JSON.stringify(options.address)} is not "host:port" or "[ipv6]:port"`);
    return { host: (match[1] ?? match[2]) as string, port: checkPort(Number(match[3])) };
  }
  if (options.port === undefined) throw new TypeError('`port` (or `address`) is required');
  return { host: options.host ?? '127.0.0.1', port: checkPort(options.port) };
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`invalid port ${port}`);
  return port;
}

function positive(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

function timeout(name: string, ms: number): number {
  if (Number.isNaN(ms) || ms < 0) throw new RangeError(`${name} must be >= 0 (0 or Infinity: no limit), got ${ms}`);
  return ms;
}
