// Durable by default: maps, values and update ids survive a restart of
// `syncstate serve` (SQLite in the data folder); one server per data folder;
// --memory keeps nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir } from './helpers/cli.js';

const dir = tempDir('storage');
afterAll(() => dir.remove());

describe('serve storage', () => {
  it('keeps maps across restarts, with their update ids', async () => {
    writeFileSync(join(dir.path, 'map.json'), JSON.stringify({ color: 'red', size: '1' }));
    let serve = await startServe(['--port', '0'], { cwd: dir.path });
    expect(serve.stdout()).toContain('maps stored in .syncstate/maps.db');
    const cli = (...args: string[]) => runCli([...args, '--address', serve.address], { cwd: dir.path });
    const hash = (await cli('init', 'map.json')).stdout.trim();
    await cli('set', hash, 'color=blue');
    await cli('set', hash, 'color=green', 'size=2');

    // A second server on the same folder is refused while the first runs.
    const second = await runCli(['serve', '--port', '0'], { cwd: dir.path });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/maps\.db is in use by another process \(another syncstate serve on this data folder\?\)/);
    expect((await serve.stop()).code).toBe(0);

    serve = await startServe(['--port', '0'], { cwd: dir.path });
    const status = await cli('status', hash);
    expect(status.stdout).toContain(`map ${hash}: update id 2`);
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ color: 'green', size: '2' });
    await cli('set', hash, 'size=3');
    expect((await cli('status', hash)).stdout).toContain(`map ${hash}: update id 3`);
    await serve.stop();
  });

  it('keeps a big map (stored in parts) across restarts; the restarted server answers for it at once, and loads it on first use', async () => {
    const pairs: Record<string, string> = {};
    for (let i = 0; i < 20_000; i++) pairs[`key-${i}`] = `value-${i}`;
    writeFileSync(join(dir.path, 'big.json'), JSON.stringify(pairs));
    let serve = await startServe(['--port', '0', '--data', 'big-data'], { cwd: dir.path });
    const cli = (...args: string[]) => runCli([...args, '--address', serve.address, '--data', 'big-data'], { cwd: dir.path });
    const hash = (await cli('init', 'big.json')).stdout.trim();
    await cli('set', hash, 'key-7=seven');
    expect((await serve.stop()).code).toBe(0);

    serve = await startServe(['--port', '0', '--data', 'big-data'], { cwd: dir.path });
    expect((await cli('status', hash)).stdout).toContain(`map ${hash}: update id 1`);
    const back = JSON.parse((await cli('get', hash)).stdout) as Record<string, string>;
    expect(back).toEqual({ ...pairs, 'key-7': 'seven' });
    await cli('set', hash, 'key-19999=last');
    expect((await cli('get', hash, 'key-19999')).stdout.trim()).toBe('last');
    await serve.stop();
  });

  it('a maps.db emptied to 0 bytes is refused with what to do, never recreated', async () => {
    let serve = await startServe(['--port', '0', '--data', 'emptied'], { cwd: dir.path });
    expect((await serve.stop()).code).toBe(0);
    const db = join(dir.path, 'emptied', 'maps.db');
    writeFileSync(db, '');
    const refused = await runCli(['serve', '--port', '0', '--data', 'emptied'], { cwd: dir.path });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/maps\.db exists but is empty \(0 bytes\).*not recreated.*put a backup in its place, or move it away/);
    expect(refused.stderr).not.toMatch(/\n\s+at /); // one message, no stack trace
    expect(readFileSync(db).length).toBe(0);
  });

  it('--memory keeps nothing', async () => {
    writeFileSync(join(dir.path, 'mem.json'), JSON.stringify({ a: '1' }));
    for (let round = 0; round < 2; round++) {
      const serve = await startServe(['--port', '0', '--memory', '--data', 'mem-data'], { cwd: dir.path });
      expect(serve.stdout()).toContain('maps in memory (lost when the server stops)');
      const init = await runCli(['init', 'mem.json', '--address', serve.address, '--data', 'mem-data'], { cwd: dir.path });
      expect(init.stderr).toBe('created map with 1 key\n'); // new every time
      await serve.stop();
    }
  });
});
