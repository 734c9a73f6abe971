// The release as users meet it. `pnpm release` (the real script, with
// --no-git-tag) publishes every public workspace package to a real registry:
// verdaccio, started here, serving @syncstate-ts/* only from what we publish
// and everything else from the public npm registry. Then, in empty folders,
// what README.md tells users to run: `npm install --global @syncstate-ts/cli`
// with `syncstate serve` and `syncstate status`, and `npm install
// @syncstate-ts/remote` alone, used from a Node ESM program against the
// served map.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@syncstate-ts/testkit/ports';
import { startVerdaccio, type TestRegistry } from '@syncstate-ts/testkit/verdaccio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstalledServe } from '../scripts/lib/installed-command.mjs';
import { publishablePackages } from '../scripts/lib/workspace-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// Installing the CLI compiles better-sqlite3 when no prebuilt binary can be fetched (minutes on
// two cores); the limit only catches a stall.
const STALL = 25 * 60_000;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function run(cmd: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

const shown = (r: Ran): string => `exit ${r.code}\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-6000)}`;

/** The environment of a person at a shell: none of the npm_* settings `pnpm test` passes down, nor vitest's. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|pnpm_|vitest|node_env$)/i.test(k)) env[k] = v;
  // Native addons built during an install (better-sqlite3) compile against the headers of the
  // Node running this test (CI runs the suite on two Node versions), not a configured nodedir.
  const nodeDir = dirname(dirname(process.execPath));
  if (existsSync(join(nodeDir, 'include', 'node', 'node_version.h'))) env.npm_config_nodedir = nodeDir;
  return { ...env, ...extra };
}

describe('a release, published to a registry and installed from it', { timeout: STALL }, () => {
  let registry: TestRegistry;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const seconds: Record<string, number> = {};

  beforeAll(async () => {
    registry = await startVerdaccio({ localScopes: ['@syncstate-ts'] });
    work = mkdtempSync(join(tmpdir(), 'syncstate-release-flow-'));
    // The documented CI setup: the registry in NPM_CONFIG_REGISTRY, the token in NPM_TOKEN, named by
    // an npmrc line. This user config replaces the machine's own ~/.npmrc.
    const npmrc = join(work, 'npmrc');
    writeFileSync(npmrc, `${registry.authKey}=\${NPM_TOKEN}\n`);
    env = userEnv({ NPM_CONFIG_REGISTRY: registry.url, NPM_CONFIG_USERCONFIG: npmrc, NPM_TOKEN: registry.token });
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`release-flow: ${Object.entries(seconds).map(([k, s]) => `${k} ${s.toFixed(0)} s`).join(', ')}`);
  });

  const cliBin = (): string => join(work, 'global', 'bin', 'syncstate');

  it('pnpm release publishes every public workspace package at its version, and makes no git tag', async () => {
    const tagsBefore = (await run('git', ['tag', '--list'], { cwd: root, env })).stdout;
    const release = await run('pnpm', ['release', '--no-git-tag'], { cwd: root, env });
    seconds['pnpm release'] = release.seconds;
    expect(release.code, shown(release)).toBe(0);
    expect(release.stdout).toContain(`release: publishing to ${registry.url} as release-test`);

    const packages = publishablePackages(root);
    expect(packages.map((p) => p.name)).toContain('@syncstate-ts/cli');
    for (const { name, version } of packages) {
      const response = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
      const doc = (await response.json()) as { 'dist-tags'?: { latest?: string }; versions?: Record<string, unknown> };
      expect(`${name} ${response.status} ${doc['dist-tags']?.latest}`).toBe(`${name} 200 ${version}`);
      expect(Object.keys(doc.versions ?? {})).toEqual([version]);
    }
    expect((await run('git', ['tag', '--list'], { cwd: root, env })).stdout).toBe(tagsBefore);
  });

  it('npm install --global @syncstate-ts/cli: syncstate serve (embedded defaults) and syncstate status work', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const install = await run('npm', ['install', '--global', '--prefix', join(work, 'global'), '--no-audit', '--no-fund', '@syncstate-ts/cli'], { cwd: empty, env });
    seconds['npm install --global @syncstate-ts/cli'] = install.seconds;
    expect(install.code, shown(install)).toBe(0);
    const version = await run(cliBin(), ['--version'], { cwd: empty, env });
    expect(version.stdout.trim()).toBe(publishablePackages(root).find((p) => p.name === '@syncstate-ts/cli')!.version);

    const served = join(work, 'served');
    mkdirSync(served);
    const port = await freePort();
    const serve = await startInstalledServe(cliBin(), ['--port', String(port)], { cwd: served, env });
    let exitCode: number | null | undefined;
    try {
      expect(serve.address).toBe(`127.0.0.1:${port}`);
      // The native transport came with the command (an optional dependency) and loads.
      expect(serve.banner).toContain('transport rustls');
      // Embedded defaults: certificate, key, generated password and SQLite maps in ./.syncstate.
      for (const file of ['cert.pem', 'key.pem', 'password', 'maps.db']) expect(existsSync(join(served, '.syncstate', file)), file).toBe(true);

      const client = (...args: string[]) => run(cliBin(), [...args, '--address', serve.address], { cwd: served, env });
      const status = await client('status');
      expect(status.code, shown(status)).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`^server 127\\.0\\.0\\.1:${port}: up, password accepted \\(\\d+ ms\\)\\n$`));

      writeFileSync(join(served, 'map.json'), JSON.stringify({ greeting: 'hello' }));
      const hash = (await client('init', 'map.json')).stdout.trim();
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect((await client('set', hash, 'greeting=hi from the registry')).code).toBe(0);
      const mapStatus = await client('status', 'map.json');
      expect(mapStatus.code, shown(mapStatus)).toBe(0);
      expect(mapStatus.stdout).toContain(`map ${hash}: update id 1\n`);
      const unknown = await client('status', 'f'.repeat(64));
      expect(unknown.code).toBe(4);
      expect(unknown.stdout).toContain(`map ${'f'.repeat(64)}: not on the server\n`);
      const wrongPassword = await run(cliBin(), ['status', '--address', serve.address], { cwd: served, env: { ...env, SYNCSTATE_PASSWORD: 'not the password' } });
      expect(wrongPassword.code).toBe(3);

      // `npm install @syncstate-ts/remote` alone, in another empty folder, used from ESM.
      const app = join(work, 'remote-only');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'remote-only', private: true, type: 'module' }));
      const remoteInstall = await run('npm', ['install', '--no-audit', '--no-fund', '@syncstate-ts/remote'], { cwd: app, env });
      seconds['npm install @syncstate-ts/remote'] = remoteInstall.seconds;
      expect(remoteInstall.code, shown(remoteInstall)).toBe(0);
      const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      expect(Object.keys(manifest.dependencies)).toEqual(['@syncstate-ts/remote']);
      // The client alone: its own dependencies (core, codec), no server, no native addon.
      expect(existsSync(join(app, 'node_modules', '@syncstate-ts', 'core', 'dist', 'index.js'))).toBe(true);
      for (const absent of ['@syncstate-ts/server', '@syncstate-ts/cli', 'better-sqlite3']) expect(existsSync(join(app, 'node_modules', absent)), absent).toBe(false);
      writeFileSync(
        join(app, 'sync.mjs'),
        [
          "import { readFileSync } from 'node:fs';",
          "import { TcpStateRemote } from '@syncstate-ts/remote';",
          "import { StateMap, kinds } from '@syncstate-ts/core'; // installed with remote, whose maps it syncs",
          'const [address, data] = process.argv.slice(2);',
          'const remote = new TcpStateRemote({',
          '  address,',
          "  tls: { ca: readFileSync(`${data}/cert.pem`, 'utf8') },",
          "  password: readFileSync(`${data}/password`, 'utf8').trim(),",
          '  key: kinds.string,',
          '  value: kinds.string,',
          '});',
          'const map = new StateMap({ key: kinds.string, value: kinds.string, remote });',
          "map.push('greeting', 'hello');",
          'await map.freeze();',
          'const result = await remote.sync(map);',
          "console.log(JSON.stringify({ hash: Buffer.from(map.hash()).toString('hex'), greeting: map.get('greeting'), updateId: String(result.toUpdateId) }));",
          '',
        ].join('\n'),
      );
      const synced = await run(process.execPath, ['sync.mjs', serve.address, join(served, '.syncstate')], { cwd: app, env });
      expect(synced.code, shown(synced)).toBe(0);
      expect(JSON.parse(synced.stdout)).toEqual({ hash, greeting: 'hi from the registry', updateId: '1' });
    } finally {
      exitCode = await serve.stop();
    }
    expect(exitCode).toBe(0); // SIGTERM: a clean stop
  });
});
