// The platform packages (one per os, cpu and libc; the main package installs
// the matching one as an optional dependency): each cross-built binary is
// stripped, is an ELF shared object for its machine and C library, needs no
// glibc newer than GLIBC_FLOOR, and serves a real TLS request in a Node-API
// host of its own platform: this Node (linux-x64-gnu), Node for arm64 under
// qemu-user (linux-arm64-gnu), Bun for musl under musl's loader
// (linux-x64-musl). Then the loader's choice and its error.
//
// Binaries: `pnpm --filter @syncstate-ts/transport-rustls build:platforms`;
// runtimes: scripts/platform-test-runtimes.mjs (CI: .ci/native-platforms.sh).
// A missing one fails here, it is never skipped.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentPlatform, PLATFORM_PACKAGES } from '@syncstate-ts/transport-rustls';
import { GLIBC_FLOOR, PLATFORMS, RUNTIMES } from '../scripts/platforms.mjs';

const run = promisify(execFile);
const smoke = fileURLToPath(new URL('./addon-smoke.cjs', import.meta.url));
const mainPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  optionalDependencies: Record<string, string>;
};
const buildHint = 'build it: pnpm --filter @syncstate-ts/transport-rustls build:platforms';
const runtimesHint = 'fetch it: bash .ci/native-platforms.sh';

const readelf = async (...args: string[]): Promise<string> => (await run('readelf', ['-W', ...args])).stdout;
const cmp = (a: string, b: string): number => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return x[0]! - y[0]! || x[1]! - y[1]!;
};

/** What each platform's binary must be, from the package's own os/cpu/libc fields. */
const expected = {
  x64: { machine: 'Advanced Micro Devices X86-64', loader: 'ld-linux-x86-64.so.2' },
  arm64: { machine: 'AArch64', loader: 'ld-linux-aarch64.so.1' },
} as const;

interface SmokeResult {
  exports: string[];
  protocol: string;
  sent: string;
  answer: string;
  libc: string[];
}

let tls: { CERT: string; KEY: string };
beforeAll(async () => {
  const { cert, key } = await createSelfSignedCertificate();
  tls = { CERT: cert, KEY: key };
});

/** Runs addon-smoke.cjs with `command` and checks the round trip it reports. */
async function serveOnce(command: string[], binary: string, env: Record<string, string> = {}): Promise<SmokeResult> {
  const [exe, ...args] = command;
  const { stdout } = await run(exe!, [...args, smoke, binary], { env: { ...process.env, ...env, ...tls }, timeout: 120_000 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as SmokeResult;
  expect(result.exports).toEqual(['RustlsListener', 'setTcpQuickAck']);
  expect(result.protocol).toBe('TLSv1.3');
  expect(result.answer).toBe([...result.sent].reverse().join(''));
  return result;
}

it('the loader, the build script and package.json name the same platform packages, each with the main package\'s version', () => {
  expect(Object.keys(PLATFORM_PACKAGES).sort()).toEqual(PLATFORMS.map((p) => p.key).sort());
  expect(Object.values(PLATFORM_PACKAGES).sort()).toEqual(Object.keys(mainPackage.optionalDependencies).sort());
  for (const p of PLATFORMS) {
    expect(PLATFORM_PACKAGES[p.key]).toBe(p.packageName);
    const json = JSON.parse(readFileSync(`${p.packageDir}/package.json`, 'utf8')) as Record<string, unknown>;
    const [os, cpu, libc] = p.key.split('-');
    expect(json).toMatchObject({
      name: p.packageName,
      version: mainPackage.version,
      os: [os],
      cpu: [cpu],
      libc: [libc === 'gnu' ? 'glibc' : libc],
      main: `./transport-rustls.${p.key}.node`,
      exports: { '.': `./transport-rustls.${p.key}.node` },
    });
    expect(json.files).toContain(`transport-rustls.${p.key}.node`);
    expect(p.binary).toBe(`${p.packageDir}/transport-rustls.${p.key}.node`);
  }
});

describe.each(PLATFORMS)('$key', (p) => {
  const [, cpu, libc] = p.key.split('-') as [string, keyof typeof expected, 'gnu' | 'musl'];

  it('is built, stripped, and an ELF shared object for its machine', async () => {
    expect(existsSync(p.binary), `${p.binary} is missing; ${buildHint}`).toBe(true);
    const header = await readelf('-h', p.binary);
    expect(header).toMatch(/Class:\s+ELF64/);
    expect(header).toMatch(/Type:\s+DYN/);
    expect(header).toMatch(new RegExp(`Machine:\\s+${expected[cpu].machine}\\n`));
    const sections = await readelf('-S', p.binary);
    expect(sections).toContain(' .dynsym ');
    expect(sections).not.toContain(' .symtab ');
    expect(sections).not.toMatch(/ \.debug_\w+ /);
  });

  it(libc === 'gnu' ? `links only glibc's libraries, needing glibc ${GLIBC_FLOOR} at most` : "links only musl's C library, nothing of glibc", async () => {
    const needed = [...(await readelf('-d', p.binary)).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    const versions = [...(await readelf('-V', p.binary)).matchAll(/Name: (GLIBC_[\d.]+)/g)].map((m) => m[1]!.slice('GLIBC_'.length));
    if (libc === 'gnu') {
      expect(needed).toContain('libc.so.6');
      const glibc = ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libgcc_s.so.1', expected[cpu].loader];
      expect(needed.filter((n) => !glibc.includes(n!))).toEqual([]);
      expect(versions).toContain(GLIBC_FLOOR); // the floor is really the one linked against
      expect(versions.filter((v) => cmp(v, GLIBC_FLOOR) > 0)).toEqual([]);
    } else {
      // musl's dynamic loader is its libc.so and answers to that name itself (Alpine, Void...).
      expect(needed).toEqual(['libc.so']);
      expect(versions).toEqual([]);
    }
  });

  if (p.key === 'linux-x64-gnu') {
    it('loads in this Node and serves a real TLS request', async () => {
      expect(existsSync(p.binary), `${p.binary} is missing; ${buildHint}`).toBe(true);
      // Through the package, as the loader resolves it.
      expect(createRequire(import.meta.url).resolve(p.packageName)).toBe(p.binary);
      const result = await serveOnce([process.execPath], p.binary);
      expect(result.libc).toContain('/usr/lib/x86_64-linux-gnu/libc.so.6');
    });
  }

  if (p.key === 'linux-arm64-gnu') {
    it(`loads in Node ${RUNTIMES.nodeArm64.version} for arm64 under qemu-user and serves a real TLS request`, async () => {
      expect(existsSync(p.binary), `${p.binary} is missing; ${buildHint}`).toBe(true);
      for (const file of [RUNTIMES.qemu, `${RUNTIMES.arm64Root}/lib/libc.so.6`, RUNTIMES.nodeArm64.exe]) {
        expect(existsSync(file), `${file} is missing; ${runtimesHint}`).toBe(true);
      }
      const result = await serveOnce([RUNTIMES.qemu, '-L', RUNTIMES.arm64Root, RUNTIMES.nodeArm64.exe], p.binary);
      expect(result.sent).toContain('from arm64 node');
      expect(result.libc).toContain(`${RUNTIMES.arm64Root}/lib/libc.so.6`);
    }, 120_000); // Node under emulation starts in seconds; this only guards a stall
  }

  if (p.key === 'linux-x64-musl') {
    it(`loads in Bun ${RUNTIMES.bunMusl.version} for musl, run by musl's loader, and serves a real TLS request`, async () => {
      expect(existsSync(p.binary), `${p.binary} is missing; ${buildHint}`).toBe(true);
      for (const file of [RUNTIMES.musl.loader, `${RUNTIMES.muslCxx.dir}/libstdc++.so.6`, RUNTIMES.bunMusl.exe]) {
        expect(existsSync(file), `${file} is missing; ${runtimesHint}`).toBe(true);
      }
      const result = await serveOnce([RUNTIMES.musl.loader, RUNTIMES.bunMusl.exe], p.binary, { LD_LIBRARY_PATH: RUNTIMES.muslCxx.dir });
      expect(result.sent).toContain('from x64 bun');
      // musl alone: no glibc in the process.
      expect(result.libc).toEqual([RUNTIMES.musl.loader]);
    });
  }
});

describe('the loader', () => {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  /** A fresh Node process importing this package (from source) and printing what `code` returns. */
  const inChild = async (code: string, env: Record<string, string>, cwd = packageDir): Promise<unknown> => {
    const script = `const m = await import('@syncstate-ts/transport-rustls'); console.log(JSON.stringify(await (${code})(m)));`;
    const { stdout } = await run(process.execPath, ['--import', tsx, '--conditions=@syncstate-ts/source', '--input-type=module', '-e', script], {
      cwd,
      // Without pnpm's NODE_PATH (its bin shims set it to the workspace's hoisted packages): the child
      // resolves packages as an installed user's process does.
      env: { ...process.env, NODE_PATH: '', ...env },
      timeout: 60_000,
    });
    return JSON.parse(stdout);
  };

  it('names this process\'s platform with its C library, as process.report tells it', () => {
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
    expect(currentPlatform()).toBe(`${process.platform}-${process.arch}${process.platform === 'linux' ? (glibc ? '-gnu' : '-musl') : ''}`);
  });

  it('loads the file SYNCSTATE_TRANSPORT_RUSTLS_ADDON names', async () => {
    const x64 = PLATFORMS.find((p) => p.key === 'linux-x64-gnu')!;
    const result = await inChild(
      `async (m) => ({ path: m.addonPath(), transport: typeof m.rustlsTransport(), available: m.isAvailable() })`,
      { SYNCSTATE_TRANSPORT_RUSTLS_ADDON: x64.binary },
    );
    expect(result).toEqual({ path: x64.binary, transport: 'function', available: true });
  });

  it('without its platform package (optional dependencies left out), says which package is missing', async () => {
    // An installed copy of this package, as a package manager lays it out, with no platform package beside it.
    const project = mkdtempSync(join(tmpdir(), 'transport-rustls-no-optional-'));
    try {
      const installed = join(project, 'node_modules', '@syncstate-ts', 'transport-rustls');
      mkdirSync(installed, { recursive: true });
      cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
      cpSync(join(packageDir, 'src'), join(installed, 'src'), { recursive: true });
      const require = createRequire(import.meta.url);
      symlinkSync(realpathSync(join(packageDir, '..', 'codec')), join(project, 'node_modules', '@syncstate-ts', 'codec'));
      symlinkSync(dirname(require.resolve('detect-libc/package.json')), join(project, 'node_modules', 'detect-libc'));
      const result = (await inChild(`async (m) => { try { return m.addonPath(); } catch (e) { return { code: e.code, message: e.message }; } }`, {}, project)) as Record<string, string>;
      const name = PLATFORM_PACKAGES[currentPlatform()]!;
      expect(result.code).toBe('addon-unavailable');
      expect(result.message).toContain(`the addon for ${currentPlatform()} comes in ${name}, an optional dependency that is not installed`);
      expect(result.message).toContain('use the node:tls transport');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('gives AddonUnavailableError, saying what to do, when the addon does not load', async () => {
    const arm64 = PLATFORMS.find((p) => p.key === 'linux-arm64-gnu')!;
    const result = (await inChild(
      `async (m) => {
        try { m.rustlsTransport(); return 'loaded'; } catch (e) {
          return { name: e.name, code: e.code, platform: e.platform, message: e.message, isError: e instanceof m.AddonUnavailableError, available: m.isAvailable() };
        }
      }`,
      { SYNCSTATE_TRANSPORT_RUSTLS_ADDON: arm64.binary },
    )) as Record<string, unknown>;
    expect(result).toMatchObject({ name: 'AddonUnavailableError', code: 'addon-unavailable', platform: currentPlatform(), isError: true, available: false });
    expect(result.message).toContain(`${arm64.binary} does not load on ${currentPlatform()}`);
    expect(result.message).toContain('use the node:tls transport');
    expect(result.message).toContain('"Building from source"');
    expect(result.message).not.toContain('\n');
  });
});
