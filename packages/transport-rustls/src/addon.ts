/**
 * Loads the compiled addon (native/lib.rs) and types what it exports. The
 * binary sits in prebuilds/<platform>-<arch>/, built by `pnpm build`
 * (scripts/build-native.mjs, needs cargo).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ServerLimits } from '@syncstate-ts/server';
import { AddonUnavailableError } from './errors.js';

/** The connection limits the addon enforces itself (the others are the ProtocolHandler's). */
export type ConnectionLimits = Pick<
  ServerLimits,
  'maxFrameSize' | 'maxBufferedRequestBytes' | 'maxConnections' | 'handshakeTimeoutMs' | 'requestTimeoutMs' | 'idleTimeoutMs' | 'drainTimeoutMs'
>;

export interface ListenOptions extends ConnectionLimits {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  /** The TLS versions offered (at least one). */
  tls12: boolean;
  tls13: boolean;
  threads?: number | undefined;
  reusePort?: boolean | undefined;
}

export interface NativeStats {
  activeConnections: number;
  totalConnections: number;
  rejectedConnections: number;
  bytesIn: number;
  bytesOut: number;
  failures: { code: string; count: number }[];
}

export interface RustlsListener {
  readonly port: number;
  readonly host: string;
  readonly family: string;
  respond(id: number, answer: Buffer | null): void;
  stats(): NativeStats;
  close(): Promise<void>;
}

export interface Addon {
  RustlsListener: new (
    options: ListenOptions,
    onRequest: (id: number, payload: Buffer, peer: string) => void,
  ) => RustlsListener;
  /** TCP_QUICKACK on the socket with this descriptor (Linux; elsewhere nothing). */
  setTcpQuickAck(fd: number): void;
}

export const addonPath = fileURLToPath(
  new URL(`../prebuilds/${process.platform}-${process.arch}/transport-rustls.node`, import.meta.url),
);

let addon: Addon | undefined;

/** The addon, loaded once; AddonUnavailableError when this platform has no build. */
export function loadAddon(): Addon {
  if (addon !== undefined) return addon;
  if (!existsSync(addonPath)) {
    throw new AddonUnavailableError(
      `@syncstate-ts/transport-rustls has no addon for ${process.platform}-${process.arch} (${addonPath}); build it with cargo: pnpm --filter @syncstate-ts/transport-rustls build:native`,
    );
  }
  try {
    addon = createRequire(import.meta.url)(addonPath) as Addon;
  } catch (err) {
    throw new AddonUnavailableError(`@syncstate-ts/transport-rustls: ${addonPath} does not load: ${(err as Error).message}`, { cause: err });
  }
  return addon;
}

/** True when the addon loads on this machine. */
export function isAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}
