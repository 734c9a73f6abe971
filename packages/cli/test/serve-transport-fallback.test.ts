// `syncstate serve` where the rustls addon does not load (here: the file that
// SYNCSTATE_TRANSPORT_RUSTLS_ADDON names is not a shared library, as a binary
// for another platform would not be one here): by default it says so in one
// line and serves on node:tls; `--transport rustls` refuses to start.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli, startServe, tempDir } from './helpers/cli.js';

const dir = tempDir('transport-fallback');
afterAll(() => dir.remove());
const broken = join(dir.path, 'not-an-addon.node');
writeFileSync(broken, 'this is not a shared library\n');
const env = { SYNCSTATE_TRANSPORT_RUSTLS_ADDON: broken };

it('serves on node:tls when the addon does not load, and says why in one line', async () => {
  const serve = await startServe(['--port', '0', '--memory'], { cwd: dir.path, env });
  const status = await runCli(['status', '-a', serve.address], { cwd: dir.path });
  const stopped = await serve.stop();
  expect(status.code).toBe(0);
  const lines = stopped.stdout.split('\n').filter((line) => line.startsWith('transport '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^transport node:tls \(the rustls transport is not available: @syncstate-ts\/transport-rustls: .* does not load on /);
  expect(lines[0]).toContain(broken);
  expect(lines[0]).toContain('Building from source');
  expect(stopped.stderr).not.toMatch(/\n\s+at /);
});

it('refuses to start with --transport rustls when the addon does not load', async () => {
  const result = await runCli(['serve', '--port', '0', '--memory', '--transport', 'rustls'], { cwd: dir.path, env });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^syncstate: --transport rustls: @syncstate-ts\/transport-rustls: .* does not load on .*\n$/);
  expect(result.stdout).not.toContain('listening on');
});
