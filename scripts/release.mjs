#!/usr/bin/env node
// `pnpm release [--no-git-tag] [--tag <dist-tag>]`: publishes every public
// workspace package whose version is not on the registry yet, after checking
// what would be published. The versions are set before, by
// `pnpm changeset version` (RELEASING.md has the whole procedure).
//
//   1. Where and as whom: the registry is npm's own `registry` setting
//      (NPM_CONFIG_REGISTRY, or `registry=` in an .npmrc; npmjs.org by default),
//      the login is npm's too (`npm login`, or an .npmrc line
//      `//host/:_authToken=${NPM_TOKEN}`); `npm whoami` must answer before
//      anything is built.
//   2. `pnpm typecheck` (turbo).
//   3. `scripts/pack-check.mjs --no-install`: builds (`pnpm build`, and the
//      platform packages' binaries), then packs each package as it will be
//      published and checks it: dist/, README, LICENSE, one addon per platform
//      package, no `workspace:` ranges left. (Installing and running the
//      tarballs as well takes minutes; CI does it on every commit, and a
//      release is made from one.)
//   4. `changeset publish`: `pnpm publish` of each package not yet on the
//      registry (each prepack builds again and finds nothing to do), then
//      a git tag `<name>@<version>` per published package, unless --no-git-tag.
//      The arguments of `pnpm release` go to `changeset publish`.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { publishablePackages } from './lib/workspace-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const publishArgs = process.argv.slice(2);
const log = (s) => console.log(`release: ${s}`);
const fail = (s) => {
  console.error(`release: ${s}`);
  process.exit(1);
};
const output = (cmd, args) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const step = (cmd, args, env = process.env) => {
  log(`${cmd} ${args.join(' ')}`);
  try {
    execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  } catch {
    fail(`${cmd} ${args.join(' ')} failed`);
  }
};

// 1. The registry and the login, as npm itself resolves them.
const registry = output('npm', ['config', 'get', 'registry']);
const scope = '@syncstate-ts';
const scoped = output('npm', ['config', 'get', `${scope}:registry`]);
// `changeset publish` asks the registry which versions exist through `npm_config_registry` only, and
// pnpm publish would follow a scoped setting: one registry for both, or none.
if (scoped !== 'undefined' && scoped !== '' && scoped !== registry) {
  fail(`${scope}:registry (${scoped}) differs from registry (${registry}): set registry (NPM_CONFIG_REGISTRY) instead`);
}
let user;
try {
  user = output('npm', ['whoami', '--registry', registry]);
} catch (err) {
  const reason = String(err.stderr || err.message).split('\n').find((l) => l.startsWith('npm error')) ?? err.message;
  fail(`not logged in to ${registry} (npm whoami: ${reason.trim()}).\n` +
    `  Log in with npm login --registry ${registry}, or give a token in an .npmrc: //${new URL(registry).host}${new URL(registry).pathname.replace(/\/?$/, '/')}:_authToken=\${NPM_TOKEN}`);
}
const packages = publishablePackages(root);
log(`publishing to ${registry} as ${user}: ${packages.map((p) => `${p.name}@${p.version}`).join(', ')} (those not there yet)`);
const pending = readdirSync(`${root}.changeset`).filter((f) => f.endsWith('.md') && f !== 'README.md');
if (pending.length > 0) log(`note: ${pending.length} changesets are not applied to the versions yet (pnpm changeset version applies them)`);

// 2 and 3. Check, build, and check what would be published.
step('pnpm', ['typecheck']);
step(process.execPath, ['scripts/pack-check.mjs', '--no-install']);

// 4. Publish. changesets reads the registry from npm_config_registry (lower case) and otherwise
// assumes npmjs.org: it gets the one resolved above.
step('pnpm', ['exec', 'changeset', 'publish', ...publishArgs], { ...process.env, npm_config_registry: registry });
if (!publishArgs.includes('--no-git-tag')) log('push the new tags: git push --follow-tags');
