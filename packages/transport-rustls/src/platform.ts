/**
 * Which platform this process runs on, in the names of the platform packages
 * (`linux-x64-gnu`, `linux-x64-musl`, `linux-arm64-gnu`, …), and which package
 * holds the addon for it. scripts/platforms.mjs builds the same list; a test
 * holds the two, and package.json's optionalDependencies, equal.
 */
import { familySync, MUSL } from 'detect-libc';

/** The platforms with a prebuilt addon, each in its own package. */
export const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  'linux-x64-gnu': '@syncstate-ts/transport-rustls-linux-x64-gnu',
  'linux-x64-musl': '@syncstate-ts/transport-rustls-linux-x64-musl',
  'linux-arm64-gnu': '@syncstate-ts/transport-rustls-linux-arm64-gnu',
};

/** e.g. `linux-x64-gnu`; the C library is part of the name on Linux only (as in the packages' `libc` field). */
export function currentPlatform(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return base;
  // detect-libc reads the C library's files (falling back to process.report); unknown counts as glibc.
  return `${base}-${familySync() === MUSL ? 'musl' : 'gnu'}`;
}
