/**
 * Loads the compiled addon (native/lib.rs) and types what it exports. Where
 * the binary comes from, the first that exists wins:
 *
 * 1. the file named by SYNCSTATE_TRANSPORT_RUSTLS_ADDON, for an addon built
 *    from source (README, "Building from source");
 * 2. prebuilds/<platform>-<arch>/transport-rustls.node, the development build
 *    of a checkout of the repository (`pnpm build`, scripts/build-native.mjs),
 *    never in the published package. It goes before 3 because it is what
 *    cargo just built from native/lib.rs, where a platform package can hold
 *    an older cross build;
 * 3. the platform package for this process (src/platform.ts), one of this
 *    package's optional dependencies: what an installed copy uses.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerLimits } from '@syncstate-ts/server';
import { AddonUnavailableError } from './errors.js';
import { currentPlatform, PLATFORM_PACKAGES } from './platform.js';

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

/** Names an addon file to load instead of the prebuilt one (built from source). */
export const ADDON_ENV = 'SYNCSTATE_TRANSPORT_RUSTLS_ADDON';

const developmentBuild = fileURLToPath(new URL(`../prebuilds/${process.platform}-${process.arch}/transport-rustls.node`, import.meta.url));
const fallback = 'use the node:tls transport (the server\'s default) or build the addon from source (README of @syncstate-ts/transport-rustls, "Building from source")';

let loaded: { addon: Addon; path: string } | AddonUnavailableError | undefined;

/** The addon, loaded once; AddonUnavailableError when none loads in this process. */
export function loadAddon(): Addon {
  return load().addon;
}

/** The file the addon was loaded from (loading it first); AddonUnavailableError when none loads. */
export function addonPath(): string {
  return load().path;
}

/** True when the addon loads on this machine. */
export function isAvailable(): boolean {
  return !(tryLoad() instanceof AddonUnavailableError);
}

function load(): { addon: Addon; path: string } {
  const result = tryLoad();
  if (result instanceof AddonUnavailableError) throw result;
  return result;
}

function tryLoad(): { addon: Addon; path: string } | AddonUnavailableError {
  if (loaded !== undefined) return loaded;
  const platform = currentPlatform();
  const path = locate(platform);
  if (path instanceof AddonUnavailableError) return (loaded = path);
  try {
    // process.dlopen, not require: a build from source may be a .so, .dylib or .dll.
    const module = { exports: {} };
    process.dlopen(module, path);
    return (loaded = { addon: module.exports as Addon, path });
  } catch (err) {
    // dlopen's message starts with the path again, and the first line says it all.
    const reason = (err as Error).message.split('\n')[0]!.replace(`${path}: `, '');
    return (loaded = new AddonUnavailableError(platform, `@syncstate-ts/transport-rustls: ${path} does not load on ${platform} (${reason}); ${fallback}`, { cause: err }));
  }
}

function locate(platform: string): string | AddonUnavailableError {
  const explicit = process.env[ADDON_ENV];
  if (explicit) return resolve(explicit);
  if (existsSync(developmentBuild)) return developmentBuild;
  const name = PLATFORM_PACKAGES[platform];
  if (name === undefined) {
    const prebuilt = Object.keys(PLATFORM_PACKAGES).join(', ');
    return new AddonUnavailableError(platform, `@syncstate-ts/transport-rustls has no prebuilt addon for ${platform} (only for ${prebuilt}); ${fallback}`);
  }
  try {
    return createRequire(import.meta.url).resolve(name);
  } catch (err) {
    return new AddonUnavailableError(
      platform,
      `@syncstate-ts/transport-rustls: the addon for ${platform} comes in ${name}, an optional dependency that is not installed (left out with --omit=optional or --no-optional?); ${fallback}`,
      { cause: err },
    );
  }
}
