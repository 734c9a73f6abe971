// Cross-builds the addon (native/lib.rs) for every platform package and puts
// each stripped binary into its package (scripts/platforms.mjs lists them):
//
//   pnpm --filter @syncstate-ts/transport-rustls build:platforms [--quiet]
//
// cargo-zigbuild links with zig, which brings the C library of every target:
// the gnu builds link against glibc 2.28's symbols (GLIBC_FLOOR says why),
// the musl one against musl. The `dist` profile (Cargo.toml) strips symbols.
// Tools, pinned, installed once per machine into ~/.cache/syncstate-ts/tools:
// zig from PyPI (ziglang), cargo-zigbuild from crates.io; the Rust targets
// come from rustup. Cargo's output stays in target/<triple>/dist, so a run
// with nothing changed rebuilds nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { CARGO_ZIGBUILD_VERSION, PLATFORMS, ZIG_VERSION, cacheDir, packageDir } from './platforms.mjs';

const quiet = process.argv.includes('--quiet');
const log = (s) => quiet || console.log(`build:platforms: ${s}`);
const tools = `${cacheDir}/tools`;

/** zig from PyPI's ziglang wheel (its `zig` executable), into its own folder. */
function ensureZig() {
  const dir = `${tools}/ziglang-${ZIG_VERSION}`;
  if (!existsSync(`${dir}/ziglang/zig`)) {
    log(`installing zig ${ZIG_VERSION} (PyPI: ziglang) into ${dir}`);
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', partial, `ziglang==${ZIG_VERSION}`], { stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  }
  return `${dir}/ziglang`;
}

function ensureCargoZigbuild() {
  const dir = `${tools}/cargo-zigbuild-${CARGO_ZIGBUILD_VERSION}`;
  if (!existsSync(`${dir}/bin/cargo-zigbuild`)) {
    log(`installing cargo-zigbuild ${CARGO_ZIGBUILD_VERSION} (crates.io) into ${dir}`);
    execFileSync('cargo', ['install', 'cargo-zigbuild', '--version', CARGO_ZIGBUILD_VERSION, '--locked', '--quiet', '--root', dir], { stdio: 'inherit' });
  }
  return `${dir}/bin`;
}

function ensureRustTargets() {
  const installed = execFileSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).split('\n');
  const missing = PLATFORMS.map((p) => p.rustTarget).filter((t) => !installed.includes(t));
  if (missing.length > 0) {
    log(`rustup target add ${missing.join(' ')}`);
    execFileSync('rustup', ['target', 'add', ...missing], { stdio: quiet ? 'ignore' : 'inherit' });
  }
}

const started = Date.now();
mkdirSync(tools, { recursive: true });
const path = [ensureZig(), ensureCargoZigbuild(), process.env.PATH].join(':');
ensureRustTargets();

log(`cargo zigbuild --profile dist for ${PLATFORMS.map((p) => p.key).join(', ')}`);
// One cargo run for all targets: the build scripts and proc macros compile once, and the two cores stay busy.
const build = spawnSync(
  'cargo',
  ['zigbuild', '--profile', 'dist', '--locked', ...(quiet ? ['--quiet'] : []), ...PLATFORMS.flatMap((p) => ['--target', p.zigTarget])],
  { cwd: packageDir, stdio: 'inherit', env: { ...process.env, PATH: path } },
);
if (build.status !== 0) throw new Error(`cargo zigbuild failed (exit ${build.status ?? build.signal})`);

const targetDir = process.env.CARGO_TARGET_DIR ?? `${packageDir}target`;
for (const p of PLATFORMS) {
  const built = `${targetDir}/${p.rustTarget}/dist/libsyncstate_transport_rustls.so`;
  const sections = execFileSync('readelf', ['-S', '-W', built], { encoding: 'utf8' });
  if (/\s\.symtab\s|\s\.debug_/.test(sections)) throw new Error(`${built} is not stripped (profile.dist in Cargo.toml sets strip)`);
  // Same rule as build-native.mjs: a running process may have the old file mapped; replace by rename.
  if (!existsSync(p.binary) || !readFileSync(p.binary).equals(readFileSync(built))) {
    const next = `${p.binary}.${process.pid}.tmp`;
    copyFileSync(built, next);
    renameSync(next, p.binary);
  }
  log(`${p.key}: ${p.binary.slice(p.binary.indexOf('packages/'))} (${(statSync(p.binary).size / 1e6).toFixed(2)} MB, stripped)`);
}
log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
