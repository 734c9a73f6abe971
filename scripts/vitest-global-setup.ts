// Builds the Rust fixture program and the rustls transport's addon once per
// test run, and the transport's cross-built platform packages with the
// runtimes their tests load them in (both cached per machine: the first run
// takes minutes, later ones a second or two). Interop tests need the real
// Rust crate: if cargo cannot build it, the run fails instead of skipping.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fixturesBinary, fixturesDir, repoRoot } from '@syncstate-ts/testkit/rust-fixtures';

export default function setup(): void {
  execFileSync('cargo', ['build', '--release', '--locked', '--quiet'], {
    cwd: fixturesDir,
    stdio: 'inherit',
  });
  if (!existsSync(fixturesBinary)) {
    throw new Error(`cargo build finished but ${fixturesBinary} is missing`);
  }
  for (const script of ['build-native.mjs', 'build-platforms.mjs', 'platform-test-runtimes.mjs']) {
    execFileSync(process.execPath, [`${repoRoot}packages/transport-rustls/scripts/${script}`, '--quiet'], { stdio: 'inherit' });
  }
}
