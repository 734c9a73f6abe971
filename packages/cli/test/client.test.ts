// The client commands against a running `syncstate serve`, each run as its
// own process with the defaults a user on the server's machine gets (the
// data folder's certificate and password), and their failures' exit codes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { runCli, serveForTests, spawnCli, tempDir } from './helpers/cli.js';

const { dir, serve, cli } = serveForTests('client', { files: { 'map.json': JSON.stringify({ color: 'red', size: '10', 'naïve key': 'ü' }) } });
let hash: string;

describe('init', () => {
  it('creates the map and prints its hash alone on stdout', async () => {
    const result = await cli('init', 'map.json');
    expect(result).toMatchObject({ code: 0, stderr: 'created map with 3 keys\n' });
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    hash = result.stdout.trim();
  });

  it('finds an existing map and prints the same hash', async () => {
    const again = await cli('init', 'map.json');
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(hash);
    expect(again.stderr).toMatch(/^the server already has this map \(3 keys, update id \d+\)\n$/);
  });

  it.concurrent.for([
    ['not-json.json', '{"a": ', /not-json\.json is not valid JSON/],
    ['array.json', '["a", "b"]', /must hold one JSON object of string pairs/],
    ['number.json', '{"a": 1}', /the value of "a" is 1; values must be strings \(write "1"\)/],
    ['repeated.json', '{"a": "1", "b": "x,y", "c": {"a": "n"}, "a": "2", "b": "3"}', /repeated\.json repeats the key "a", "b"; each key may appear once/],
    ['nested.json', '{"a": "1", "b": ["x", {"a": "y"}]}', /the value of "b" is \["x",\{"a":"y"\}\]; values must be strings/],
  ] as const)('refuses %s with the usage code 2', async ([name, content, message], { expect }) => {
    writeFileSync(join(dir.path, name), content);
    const result = await cli('init', name);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('says so when the file does not exist', async () => {
    const result = await cli('init', 'nope.json');
    expect(result).toMatchObject({ code: 2, stderr: 'syncstate: nope.json: no such file\n' });
  });
});

describe('get, set, status', () => {
  it('prints the whole map as JSON ordered by key, by hash or by file', async () => {
    const byHash = await cli('get', hash);
    const byFile = await cli('get', 'map.json');
    expect(byHash.code).toBe(0);
    expect(JSON.parse(byHash.stdout)).toEqual({ color: 'red', 'naïve key': 'ü', size: '10' });
    expect(Object.keys(JSON.parse(byHash.stdout))).toEqual(['color', 'naïve key', 'size']);
    expect(byFile.stdout).toBe(byHash.stdout);
  });

  it('set with one pair sends Set; the change is visible to the next get', async () => {
    const before = await cli('status', hash);
    const beforeId = Number(/update id (\d+)/.exec(before.stdout)![1]);
    const set = await cli('set', hash, 'color=blue');
    expect(set).toMatchObject({ code: 0, stdout: '', stderr: `set color: update id ${beforeId + 1}\n` });
    expect((await cli('get', hash, 'color')).stdout).toBe('blue\n');
  });

  it('set with several pairs sends SetMany: one update for all', async () => {
    const before = Number(/update id (\d+)/.exec((await cli('status', hash)).stdout)![1]);
    const set = await cli('set', 'map.json', 'color=green', 'naïve key=a=b', 'size=');
    expect(set).toMatchObject({ code: 0, stderr: `set color, naïve key, size: update id ${before + 1}\n` });
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ color: 'green', 'naïve key': 'a=b', size: '' });
  });

  it('status reports the server and each map; exit 4 for a map the server does not have', async () => {
    const ok = await cli('status', hash);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^server ${serve().address.replace(/\./g, '\\.')}: up, password accepted \\(\\d+ ms\\)\\nmap ${hash}: update id 2\\n$`));
    const missing = await cli('status', hash, 'ab'.repeat(32));
    expect(missing.code).toBe(4);
    expect(missing.stdout).toContain(`map ${'ab'.repeat(32)}: not on the server`);
  });

  it.concurrent.for([
    [['get', 'ab'.repeat(32)], 4, /the server has no map abab.*\(create it with: syncstate init <file.json>\)/],
    [['get', 'HASH', 'nokey'], 4, /the map has no key "nokey"/],
    [['set', 'map.json', 'nokey=1'], 4, /the map has no key "nokey": a map's keys are fixed when it is created/],
    [['set', 'HASH', 'nokey=1', '--wait', '1s'], 4, /the map has no key "nokey"/],
    [['set', 'HASH', 'color'], 2, /"color" is not key=value/],
    [['get', 'nothing-like-a-map'], 2, /is neither a map hash .* nor a JSON file/],
    [['get'], 2, /missing required argument 'map'/],
  ] as const)('%j exits with %i', async ([args, code, message], { expect }) => {
    const result = await cli(...args.map((a) => (a === 'HASH' ? hash : a)));
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a rejected set leaves the map as it was', async () => {
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ color: 'green', 'naïve key': 'a=b', size: '' });
  });
});

describe('watch', () => {
  it('prints the changes made by others as they arrive, then stops after --count', async () => {
    const watch = spawnCli(['watch', hash, '--json', '--count', '3', '--interval', '50ms', '--address', serve().address], { cwd: dir.path });
    // The header comes once the watch has the current state: later changes are the ones it prints.
    await watch.stderrMatches(/^watching map/);
    await cli('set', hash, 'color=purple');
    await cli('set', hash, 'color=purple', 'size=7', 'naïve key=x');
    const result = await watch.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^watching map ${hash} from update id \\d+ \\(3 keys\\); Ctrl-C stops\\n$`));
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const start = Number(/update id (\d+)/.exec(result.stderr)![1]);
    expect(lines).toEqual([
      { updateId: String(start + 1), key: 'color', value: 'purple', previous: 'green' },
      // color was already purple: unchanged values are not printed
      { updateId: String(start + 2), key: 'size', value: '7', previous: '' },
      { updateId: String(start + 2), key: 'naïve key', value: 'x', previous: 'a=b' },
    ]);
  });

  it('prints readable lines by default and can follow chosen keys only', async () => {
    const watch = spawnCli(['watch', 'map.json', 'size', '--count', '1', '--interval', '50ms', '--address', serve().address], { cwd: dir.path });
    await watch.stderrMatches(/^watching map/);
    await cli('set', hash, 'color=orange');
    await cli('set', hash, 'size=8');
    const result = await watch.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^update \d+: size = "8" \(was "7"\)\n$/);
  });
});

describe('Ctrl-C', () => {
  it('ends a watch cleanly with exit code 0', async () => {
    const watch = spawnCli(['watch', hash, '--address', serve().address], { cwd: dir.path });
    await watch.stderrMatches(/^watching map/);
    watch.child.kill('SIGINT');
    expect((await watch.result).code).toBe(0);
  });
});

describe('connection failures', () => {
  it('exit 3 for a wrong password, with where the password comes from', async () => {
    const result = await runCli(['get', hash, '--address', serve().address], { cwd: dir.path, env: { SYNCSTATE_PASSWORD: 'wrong' } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^syncstate: the server rejected the password \(use the server's password: SYNCSTATE_PASSWORD, --password-file/);
  });

  it('exit 5 when nothing listens at the address', async () => {
    const result = await runCli(['status', '--address', '127.0.0.1:1'], { cwd: dir.path });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/ECONNREFUSED.*is `syncstate serve` running there\?/);
  });

  it('exit 5 when the server certificate is not the trusted one', async () => {
    writeFileSync(join(dir.path, 'other.pem'), (await createSelfSignedCertificate()).cert);
    const result = await cli('status', '--ca', 'other.pem');
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/not the one given with --ca/);
  });

  it('exit 2 when there is no certificate to trust, with what to do', async () => {
    const other = tempDir('client-empty');
    const result = await runCli(['get', hash, '--address', serve().address], { cwd: other.path });
    other.remove();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the server's certificate .*run `syncstate serve` in this folder first, or give the server's certificate with --ca/);
  });

  it('reads the password from --password-file and the certificate from SYNCSTATE_CA', async () => {
    const other = tempDir('client-flags');
    writeFileSync(join(other.path, 'pw'), `${readFileSync(join(dir.path, '.syncstate', 'password'), 'utf8').trim()}\n`);
    const result = await runCli(['get', hash, 'color', '--password-file', 'pw', '--address', serve().address], {
      cwd: other.path,
      env: { SYNCSTATE_CA: join(dir.path, '.syncstate', 'cert.pem') },
    });
    other.remove();
    expect(result).toMatchObject({ code: 0, stdout: 'orange\n' });
  });
});
