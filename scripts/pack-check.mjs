#!/usr/bin/env node
// Installable packages, checked the way a user gets them: build, `pnpm pack`
// each publishable package, install the tarballs with npm into a fresh
// project outside the workspace (third-party dependencies come from the
// registry), then use them there: import every package as ESM, run a sync
// end to end (server + SQLite storage + remote client + core map), and drive
// the installed `syncstate` command (serve, init, set, get).
//
//   node scripts/pack-check.mjs [--no-build] [--no-install] [--keep]
//
// Also checks each package's metadata: README.md, LICENSE, keywords,
// repository.directory, ESM-only exports with types first, files, engines,
// a prepack that builds. --no-install stops after packing and checking the
// tarballs (what `pnpm release` runs).
// Exits 0 when everything passes; prints what failed otherwise.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInstalledServe } from './lib/installed-command.mjs';
import { publishablePackages } from './lib/workspace-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const problems = [];
const log = (s) => console.log(`pack-check: ${s}`);

// 1. Which packages ship, and is their metadata complete?
const packages = publishablePackages(root);
log(`publishable: ${packages.map((p) => p.json.name).join(', ')}`);
/** @syncstate-ts/transport-rustls-<os>-<cpu>-<libc>: one binary, no JavaScript (packages/transport-rustls/README.md). */
const isPlatformPackage = (json) => Array.isArray(json.os);

for (const { dir, rel, json } of packages) {
  const want = (ok, what) => ok || problems.push(`${json.name}: ${what}`);
  want(existsSync(join(dir, 'README.md')), 'no README.md');
  want(existsSync(join(dir, 'LICENSE')), 'no LICENSE');
  want(Array.isArray(json.keywords) && json.keywords.length > 0, 'no keywords');
  want(json.repository?.directory === rel, `repository.directory should be "${rel}"`);
  want(typeof json.license === 'string', 'no license field');
  want(typeof json.engines?.node === 'string', 'no engines.node');
  want(json.publishConfig?.access === 'public', 'publishConfig.access is not "public"');
  if (isPlatformPackage(json)) {
    // A binary of @syncstate-ts/transport-rustls: its addon, for one os, cpu and C library; packing builds it.
    want(['os', 'cpu', 'libc'].every((f) => Array.isArray(json[f]) && json[f].length === 1), 'a platform package needs os, cpu and libc fields');
    want(/^\.\/[\w.-]+\.node$/.test(json.main ?? '') && json.files?.includes(json.main.slice(2)), 'main should be its .node file, listed in files');
    want(json.scripts?.prepack === 'node ../transport-rustls/scripts/build-platforms.mjs --quiet', 'scripts.prepack should build the binaries (build-platforms.mjs)');
    continue;
  }
  want(json.type === 'module', 'not "type": "module" (the packages are ESM-only)');
  want(Array.isArray(json.files) && json.files.includes('dist'), 'files does not include dist');
  // `pnpm pack` and `pnpm publish` in a fresh clone must ship dist/: turbo builds the package and its dependencies.
  want(json.scripts?.prepack === 'turbo run build', 'scripts.prepack should be "turbo run build"');
  const main = json.exports?.['.'];
  want(main && Object.keys(main).filter((k) => k !== '@syncstate-ts/source')[0] === 'types', 'exports["."] should list "types" first');
  want(main && !('require' in main), 'exports["."] has a "require" condition, but there is no CommonJS build');
}

// 2. Build and pack.
if (!args.has('--no-build')) {
  log('pnpm build');
  execFileSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
  log('the platform packages\' binaries (cross-built; nothing to do when they are current)');
  execFileSync('pnpm', ['--filter', '@syncstate-ts/transport-rustls', 'build:platforms'], { cwd: root, stdio: 'inherit' });
}
const work = mkdtempSync(join(tmpdir(), 'syncstate-pack-check-'));
if (relative(root, work).split(/[\\/]/)[0] !== '..') throw new Error(`${work} is inside the workspace`);
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const packed = {};
for (const { dir, json } of packages) {
  for (const file of isPlatformPackage(json) ? [json.main] : ['dist/index.js', 'dist/index.d.ts']) {
    if (!existsSync(join(dir, file))) problems.push(`${json.name}: ${file} missing after the build`);
  }
  const out = execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir, encoding: 'utf8' });
  const tgz = out.trim().split('\n').at(-1).trim();
  packed[json.name] = tgz.startsWith('/') ? tgz : join(tarballs, tgz);
  const listing = execFileSync('tar', ['-tzf', packed[json.name]], { encoding: 'utf8' });
  const main = isPlatformPackage(json) ? `package/${json.main.slice(2)}` : 'package/dist/index.js';
  for (const file of ['package/README.md', 'package/LICENSE', main]) {
    if (!listing.split('\n').includes(file)) problems.push(`${json.name}: the tarball lacks ${file.slice(8)}`);
  }
  // Binaries ship only in the platform packages; the Rust sources nowhere.
  const native = listing.split('\n').filter((f) => /\.(node|rs)$|\/Cargo\.(toml|lock)$/.test(f));
  if (native.length !== (isPlatformPackage(json) ? 1 : 0)) problems.push(`${json.name}: the tarball has ${native.join(', ') || 'no addon'}`);
  const shipped = JSON.parse(execFileSync('tar', ['-xzOf', packed[json.name], 'package/package.json'], { encoding: 'utf8' }));
  const ranges = { ...shipped.dependencies, ...shipped.peerDependencies, ...shipped.optionalDependencies };
  for (const [dep, range] of Object.entries(ranges)) {
    if (String(range).startsWith('workspace:')) problems.push(`${json.name}: packed dependency ${dep} is still ${range}`);
  }
}
log(`packed ${Object.keys(packed).length} tarballs into ${tarballs}`);
if (args.has('--no-install')) finish();

// 3. A fresh project outside the workspace, installing the tarballs with npm.
const project = join(work, 'project');
mkdirSync(project);
const fileDeps = Object.fromEntries(Object.entries(packed).map(([name, tgz]) => [name, `file:${tgz}`]));
// The platform packages only as overrides: they come in as @syncstate-ts/transport-rustls's optional
// dependencies, and npm installs the one that matches this machine, as it does for a user.
const platformNames = new Set(packages.filter((p) => isPlatformPackage(p.json)).map((p) => p.json.name));
const directDeps = Object.fromEntries(Object.entries(fileDeps).filter(([name]) => !platformNames.has(name)));
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify({ name: 'pack-check-project', private: true, type: 'module', dependencies: directDeps, overrides: fileDeps }, null, 2),
);
log('npm install (third-party dependencies from the registry)');
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdio: 'inherit' });

// 4. Import every package from ESM and sync a map end to end.
writeFileSync(
  join(project, 'sync.mjs'),
  `
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { t } from '@syncstate-ts/codec';
import { StateMap, kinds, Event } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { createServer, createSelfSignedCertificate } from '@syncstate-ts/server';
import { openSqliteStorage } from '@syncstate-ts/storage-sqlite';
import { kvEvent, kvHook, ExitCode } from '@syncstate-ts/cli';
import { addonPath, currentPlatform, rustlsTransport } from '@syncstate-ts/transport-rustls';

const { cert, key } = await createSelfSignedCertificate();
const storage = openSqliteStorage({ path: join(mkdtempSync(join(tmpdir(), 'pc-')), 'maps.db'), key: kinds.string, value: kinds.string });
// The native transport from its tarball: the addon it ships must load here.
const server = createServer({ tls: { cert, key }, password: 'pw', key: kinds.string, value: kinds.string, event: kvEvent, hooks: [kvHook], storage, transport: rustlsTransport() });
const { port } = await server.listen();
const remote = new TcpStateRemote({ port, tls: { ca: cert }, password: 'pw', key: kinds.string, value: kinds.string });
const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
map.push('color', 'red');
await map.freeze();
await remote.sendEvent(new Event(kvEvent, { type: 'Set', value: ['color', 'blue'] }), map.hash());
const result = await remote.sync(map);
await server.close();
if (map.get('color') !== 'blue' || result.toUpdateId !== 1n) throw new Error('sync failed: ' + map.get('color'));
if (server.transport !== 'rustls') throw new Error('served on ' + server.transport);
// The addon came from the platform package npm chose for this machine.
const platformAddon = join(process.cwd(), 'node_modules', '@syncstate-ts', 'transport-rustls-' + currentPlatform(), 'transport-rustls.' + currentPlatform() + '.node');
if (addonPath() !== platformAddon) throw new Error('the addon came from ' + addonPath() + ', not ' + platformAddon);
const platformPackages = readdirSync(join('node_modules', '@syncstate-ts')).filter((d) => d.startsWith('transport-rustls-'));
if (platformPackages.join() !== 'transport-rustls-' + currentPlatform()) throw new Error('npm installed the platform packages ' + platformPackages.join(', '));
if (ExitCode.notFound !== 4 || typeof t.enumOf !== 'function') throw new Error('exports missing');
console.log('sync ok (rustls transport, addon from @syncstate-ts/transport-rustls-' + currentPlatform() + '): color = ' + map.get('color') + ' at update id ' + result.toUpdateId);
`,
);
log('ESM imports and an end-to-end sync');
console.log(execFileSync('node', ['sync.mjs'], { cwd: project, encoding: 'utf8' }).trim());

// Types resolve for TypeScript users (types first in exports, .d.ts shipped).
writeFileSync(
  join(project, 'types.ts'),
  `import type { Schema } from '@syncstate-ts/codec';\nimport type { StateMap } from '@syncstate-ts/core';\nimport type { TcpStateRemote } from '@syncstate-ts/remote';\nimport type { ServerOptions } from '@syncstate-ts/server';\nimport type { SqliteStorage } from '@syncstate-ts/storage-sqlite';\nimport type { HooksDefinition } from '@syncstate-ts/cli';\nimport type { RustlsTransportOptions } from '@syncstate-ts/transport-rustls';\nexport type All = [Schema<string>, StateMap<string, string>, TcpStateRemote<string, string>, ServerOptions<string, string, unknown>, SqliteStorage<string, string>, HooksDefinition<unknown>, RustlsTransportOptions];\n`,
);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
try {
  execFileSync('node', [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'false', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), 'types.ts'], { cwd: project, encoding: 'utf8' });
  log('type declarations resolve');
} catch (err) {
  problems.push(`type declarations: ${err.stdout || err.message}`);
}

// 5. The installed command, as a user runs it.
log('the installed syncstate command');
const bin = join(project, 'node_modules', '.bin', 'syncstate');
const run = (...a) => execFileSync(bin, a, { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const version = run('--version').trim();
if (version !== packages.find((p) => p.json.name === '@syncstate-ts/cli')?.json.version) problems.push(`syncstate --version printed ${version}`);
writeFileSync(join(project, 'map.json'), JSON.stringify({ greeting: 'hello' }));
let serve;
try {
  serve = await startInstalledServe(bin, ['--port', '0'], { cwd: project });
  const { address, banner } = serve;
  // The optional native transport installed with the command, so serve uses it.
  if (!banner.includes('transport rustls')) problems.push(`syncstate serve did not pick the rustls transport:\n${banner}`);
  const hash = run('init', 'map.json', '--address', address).trim();
  run('set', hash, 'greeting=hi from the tarballs', '--address', address);
  const got = run('get', hash, 'greeting', '--address', address).trim();
  if (got !== 'hi from the tarballs') problems.push(`syncstate get printed ${JSON.stringify(got)}`);
  else log(`syncstate serve/init/set/get ok (map ${hash.slice(0, 12)}…, stored in .syncstate/maps.db)`);
} catch (err) {
  problems.push(`syncstate command: ${err.message}`);
} finally {
  await serve?.stop();
}
finish();

function finish() {
  if (!args.has('--keep')) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
  if (problems.length > 0) {
    console.error(`pack-check: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  log(args.has('--no-install') ? `all ${packages.length} packages pack with what they need` : `all ${packages.length} packages install from their tarballs and work`);
  process.exit(0);
}
