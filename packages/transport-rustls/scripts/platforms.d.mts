// Types of scripts/platforms.mjs, for test/platforms.test.ts.
export const packageDir: string;
export const repoRoot: string;
export const GLIBC_FLOOR: string;
export const ZIG_VERSION: string;
export const CARGO_ZIGBUILD_VERSION: string;
export const PLATFORMS: readonly {
  key: string;
  rustTarget: string;
  zigTarget: string;
  packageName: string;
  packageDir: string;
  binary: string;
}[];
export const cacheDir: string;
export const RUNTIMES: {
  nodeArm64: { version: string; dir: string; exe: string };
  qemu: string;
  arm64Root: string;
  bunMusl: { version: string; dir: string; exe: string };
  musl: { suite: string; dir: string; loader: string };
  muslCxx: { numpy: string; dir: string };
};
