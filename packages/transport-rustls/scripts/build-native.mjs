// Builds the Node addon (native/lib.rs) with cargo and puts it where
// src/addon.ts looks for it: prebuilds/<platform>-<arch>/transport-rustls.node.
// --quiet: cargo's errors only. --optional: without cargo, say so and exit 0
// (`pnpm start` then serves on node:tls).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const quiet = process.argv.includes('--quiet');
if (process.argv.includes('--optional') && spawnSync('cargo', ['--version']).status !== 0) {
  console.log('no cargo: the rustls transport is not built; syncstate serve uses node:tls');
  process.exit(0);
}
execFileSync('cargo', ['build', '--release', '--locked', ...(quiet ? ['--quiet'] : [])], { cwd: packageDir, stdio: 'inherit' });

const library = {
  linux: 'libsyncstate_transport_rustls.so',
  darwin: 'libsyncstate_transport_rustls.dylib',
  win32: 'syncstate_transport_rustls.dll',
}[process.platform];
if (library === undefined) throw new Error(`no addon build for platform ${process.platform}`);
const targetDir = process.env.CARGO_TARGET_DIR ?? `${packageDir}target`;
const outDir = `${packageDir}prebuilds/${process.platform}-${process.arch}`;
const built = `${targetDir}/release/${library}`;
const addon = `${outDir}/transport-rustls.node`;
mkdirSync(outDir, { recursive: true });
// Processes running now (a server, another test run) have the addon mapped: writing over it in place
// makes them crash. An unchanged build leaves the file alone; a new one replaces it by rename.
if (!existsSync(addon) || !readFileSync(addon).equals(readFileSync(built))) {
  const next = `${addon}.${process.pid}.tmp`;
  copyFileSync(built, next);
  renameSync(next, addon);
}
if (!quiet) console.log(`addon: ${addon}`);
