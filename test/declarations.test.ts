// The packages' built declaration files (.d.ts) work for TypeScript users from
// TypeScript 5.0 on, not only with the 5.9 this repository builds with: a
// consumer project importing every published package that has types is
// typechecked by the oldest supported TypeScript (`typescript-5.0`, pinned in
// the root package.json), with skipLibCheck off so that every .d.ts it loads is
// checked, with moduleResolution nodenext and bundler. (The current TypeScript
// checks the packed packages in scripts/pack-check.mjs.)
//
// TypeScript 5.7 made Uint8Array generic: a declaration that prints
// `Uint8Array<ArrayBufferLike>` (an inferred type does) breaks every older
// TypeScript, while a written `Uint8Array` means the same to 5.7 and later.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const oldestTsc = join(root, 'node_modules/typescript-5.0/bin/tsc');

interface Manifest {
  name: string;
  private?: boolean;
  types?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The published packages with types (the transport's per-platform packages hold only a binary), dependencies first. */
const published = (() => {
  const all = readdirSync(join(root, 'packages'))
    .filter((d) => existsSync(join(root, 'packages', d, 'tsconfig.build.json')))
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
    .filter((p) => p.json.private !== true && p.json.types !== undefined)
    .sort((a, b) => a.json.name.localeCompare(b.json.name));
  const byName = new Map(all.map((p) => [p.json.name, p]));
  const ordered: typeof all = [];
  const visit = (p: (typeof all)[number]): void => {
    if (ordered.includes(p)) return;
    for (const dep of Object.keys({ ...p.json.dependencies, ...p.json.optionalDependencies, ...p.json.peerDependencies })) {
      const q = byName.get(dep);
      if (q !== undefined) visit(q);
    }
    ordered.push(p);
  };
  all.forEach(visit);
  return ordered;
})();

const project = mkdtempSync(join(tmpdir(), 'syncstate-declarations-'));
const installed = (name: string): string => join(project, 'node_modules', name);
afterAll(() => rmSync(project, { recursive: true, force: true }));

beforeAll(() => {
  // A project outside the workspace with the packages installed in its node_modules: each one's
  // package.json, its third-party dependencies (linked from the workspace) and its declarations,
  // built here from its sources with its own tsconfig.build.json as `pnpm build` does, but
  // against the declarations of the packages it depends on built before it (not the workspace's
  // dist/ folders, which other tests may be rebuilding).
  for (const { dir, json } of published) {
    const target = installed(json.name);
    mkdirSync(join(target, 'node_modules'), { recursive: true });
    writeFileSync(join(target, 'package.json'), JSON.stringify(json));
    const deps = join(root, 'packages', dir, 'node_modules');
    for (const entry of existsSync(deps) ? readdirSync(deps) : []) {
      if (entry === '@syncstate-ts' || entry === '.bin') continue;
      const names = entry.startsWith('@') ? readdirSync(join(deps, entry)).map((n) => `${entry}/${n}`) : [entry];
      if (entry.startsWith('@')) mkdirSync(join(target, 'node_modules', entry));
      for (const name of names) symlinkSync(join(deps, name), join(target, 'node_modules', name));
    }
    const before = published.slice(0, published.findIndex((p) => p.json.name === json.name));
    const config = join(project, `tsconfig.build.${dir}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(root, 'packages', dir, 'tsconfig.build.json'),
        compilerOptions: {
          rootDir: join(root, 'packages', dir, 'src'),
          outDir: join(target, 'dist'),
          emitDeclarationOnly: true,
          declarationMap: false,
          sourceMap: false,
          typeRoots: [join(root, 'node_modules/@types')],
          paths: Object.fromEntries(before.map((p) => [p.json.name, [join(installed(p.json.name), 'dist/index.d.ts')]])),
        },
      }),
    );
    try {
      execFileSync(process.execPath, [tsc, '-p', config], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      throw new Error(`building the declarations of ${json.name} failed:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
    }
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(project, 'consumer.ts'),
    [
      ...published.map(({ json }, i) => `import * as p${i} from '${json.name}';`),
      `export const packages = [${published.map((_, i) => `p${i}`).join(', ')}];`,
      // A few uses of the byte types that TypeScript 5.7 changed.
      `import { t } from '@syncstate-ts/codec';`,
      `import { kinds } from '@syncstate-ts/core';`,
      `const bytes: Uint8Array = new Uint8Array([1, 2, 3]);`,
      `export const ok: boolean = kinds.bytes.compare(bytes, bytes) === 0 && kinds.fixedBytes(3).equals(bytes, bytes) && t.bytes.minSize === 1;`,
      '',
    ].join('\n'),
  );
}, 600_000);

describe('declaration files', () => {
  it('cover every published package', () => {
    const names = published.map((p) => p.json.name);
    expect(names).toContain('@syncstate-ts/codec');
    expect(names).toContain('@syncstate-ts/cli');
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const name of names) expect(existsSync(join(installed(name), 'dist/index.d.ts'))).toBe(true);
  });

  it.concurrent.for(['nodenext', 'bundler'] as const)('typecheck in a consumer project with TypeScript 5.0, moduleResolution %s', async (resolution, { expect }) => {
    const config = join(project, `tsconfig.${resolution}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          module: resolution === 'nodenext' ? 'nodenext' : 'esnext',
          moduleResolution: resolution,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(process.execPath, [oldestTsc, '-p', config], { cwd: project, timeout: 120_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, output: `${stdout}${stderr}` });
      });
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('the pinned TypeScript is 5.0', () => {
    expect(execFileSync(process.execPath, [oldestTsc, '--version'], { encoding: 'utf8' }).trim()).toBe('Version 5.0.4');
  });
});
