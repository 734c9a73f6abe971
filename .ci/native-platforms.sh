#!/usr/bin/env bash
# CI step, run by .ci/run after `pnpm build`: the platform packages of
# @syncstate-ts/transport-rustls (one cross-built, stripped addon each) and
# what packages/transport-rustls/test/platforms.test.ts runs them in.
# Idempotent; after the first run on a machine everything comes from caches
# (~/.cache/syncstate-ts: zig, cargo-zigbuild, the runtimes; cargo's output in
# packages/transport-rustls/target, which .ci/run links to the cache).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's packages: qemu-user runs Node for arm64; the arm64 C and C++ libraries are its root (-L);
# binutils' readelf inspects the binaries.
apt_packages=(qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross binutils)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ci: installing ${missing[*]} (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
fi

echo "ci: runtimes for the platform tests (Node for arm64, Bun and musl for musl; cached)"
node packages/transport-rustls/scripts/platform-test-runtimes.mjs

echo "ci: platform packages of the rustls transport (cargo zigbuild; cached)"
node packages/transport-rustls/scripts/build-platforms.mjs
