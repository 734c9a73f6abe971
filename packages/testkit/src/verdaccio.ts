// A real npm registry for the release tests: verdaccio (npm package, pinned in
// this package), with its own config, users and storage in a temporary folder,
// on a free loopback port. Packages in `localScopes` live only in its storage
// (what the test publishes, never fetched from anywhere); every other package
// comes through from the public npm registry, so third-party dependencies
// install as they would for a user.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './ports.js';

export interface TestRegistry {
  /** `http://127.0.0.1:PORT/`, as npm's `registry` setting wants it. */
  readonly url: string;
  /** An auth token of a user created on this registry, for publishing. */
  readonly token: string;
  /** The `//127.0.0.1:PORT/:_authToken` key of an npmrc line that gives the token. */
  readonly authKey: string;
  /** Stops verdaccio and removes its storage. */
  stop(): Promise<void>;
}

export interface VerdaccioOptions {
  /** Scopes served only from this registry's storage, e.g. `['@syncstate-ts']`. */
  readonly localScopes: readonly string[];
  /** Where everything else comes from (default: the public npm registry). */
  readonly uplink?: string;
}

const USER = 'release-test';
const PASSWORD = 'release-test-password';

export async function startVerdaccio(options: VerdaccioOptions): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-verdaccio-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, 'config.yaml');
  // JSON is YAML: no YAML writer needed. A scope's own rule comes before `**`
  // (verdaccio takes the first pattern that matches) and has no `proxy`.
  const local = Object.fromEntries(
    options.localScopes.map((scope) => [`${scope}/*`, { access: '$all', publish: '$authenticated', unpublish: '$authenticated' }]),
  );
  writeFileSync(
    config,
    JSON.stringify({
      storage: join(dir, 'storage'),
      auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 1 } },
      uplinks: { npmjs: { url: options.uplink ?? 'https://registry.npmjs.org/', timeout: '60s' } },
      packages: { ...local, '**': { access: '$all', publish: '$authenticated', proxy: 'npmjs' } },
      // The rustls transport's tarball carries its native addon.
      max_body_size: '200mb',
      web: { enable: false },
      middlewares: { audit: { enabled: false } },
      log: { type: 'stdout', format: 'pretty', level: 'warn' },
    }),
  );
  const bin = join(dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')), 'bin', 'verdaccio');
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined); // reported below, as "not answering"
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let tries = 0; !(await pings(url)); tries++) {
      if (tries > 300 || child.exitCode !== null) throw new Error(`verdaccio did not answer on ${url}:\n${output}`);
      await sleep(100);
    }
    // The npm login call (`npm adduser`): the first one creates the user and answers with a token.
    const response = await fetch(`${url}-/user/org.couchdb.user:${USER}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: USER, password: PASSWORD }),
    });
    const body = (await response.json()) as { token?: string };
    if (response.status !== 201 || typeof body.token !== 'string') {
      throw new Error(`verdaccio did not create a user (${response.status}): ${JSON.stringify(body)}`);
    }
    return { url, token: body.token, authKey: `//127.0.0.1:${port}/:_authToken`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function pings(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}-/ping`)).ok;
  } catch {
    return false;
  }
}
