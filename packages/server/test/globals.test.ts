// Importing the library changes nothing global; only generating a certificate
// loads @peculiar/x509 and its `reflect-metadata` polyfill. A child process,
// since the test runner's own process may have loaded them already.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function inChild(script: string): unknown {
  const out = execFileSync(process.execPath, ['--import', tsx, '--conditions=@syncstate-ts/source', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

it('importing @syncstate-ts/server adds no global and leaves Reflect alone', () => {
  const seen = inChild(`
    const before = new Set([...Object.getOwnPropertyNames(globalThis), ...Reflect.ownKeys(Reflect).map(String)]);
    await import('@syncstate-ts/server');
    const after = [...Object.getOwnPropertyNames(globalThis), ...Reflect.ownKeys(Reflect).map(String)];
    console.log(JSON.stringify(after.filter((name) => !before.has(name))));
  `);
  expect(seen).toEqual([]);
});

it('generating a certificate is what installs the polyfill', () => {
  const seen = inChild(`
    const { createSelfSignedCertificate } = await import('@syncstate-ts/server');
    const before = typeof Reflect.getMetadata;
    const { cert } = await createSelfSignedCertificate();
    console.log(JSON.stringify([before, typeof Reflect.getMetadata, cert.startsWith('-----BEGIN CERTIFICATE-----')]));
  `);
  expect(seen).toEqual(['undefined', 'function', true]);
});
