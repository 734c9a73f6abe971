// `init` of a large file: a progress line on stderr (one line per step when
// stderr is not a terminal), and a server that refuses the request's size
// explained rather than reported as a bare hang-up.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir, type ServeProcess } from './helpers/cli.js';

const PAIRS = 40_000;
const dir = tempDir('large');
let serve: ServeProcess;
let small: ServeProcess;

beforeAll(async () => {
  const map: Record<string, string> = {};
  for (let i = 0; i < PAIRS; i++) map[`key-${String(i).padStart(6, '0')}`] = `value ${i} `.padEnd(20, '.');
  writeFileSync(join(dir.path, 'large.json'), JSON.stringify(map)); // about 1.4 MB: above the 1 MiB progress threshold
  [serve, small] = await Promise.all([
    startServe(['--port', '0', '--memory'], { cwd: dir.path }),
    startServe(['--port', '0', '--memory', '--max-frame-size', '64KiB', '--data', '.syncstate-small'], { cwd: dir.path }),
  ]);
});
afterAll(async () => {
  await Promise.all([serve?.stop(), small?.stop()]);
  dir.remove();
});

describe('init of a large map', () => {
  it('shows its steps on stderr, with counts, and ends with the time taken', async () => {
    const result = await runCli(['init', 'large.json', '--address', serve.address], { cwd: dir.path });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^reading large\.json \(1\.\d MiB\)…$/);
    expect(lines[1]).toBe('parsing JSON…');
    expect(lines).toContain('loading pairs 0/40,000 (0%)');
    expect(lines).toContain('loading pairs 40,000/40,000 (100%)');
    expect(lines).toContain('hashing 40,000 pairs…');
    expect(lines.some((l) => /^sending \d+\.\d MiB to 127\.0\.0\.1:\d+…$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^created map with 40,000 keys in \d+\.\d s$/);
  });

  it('stays quiet for small files unless asked with --progress', async () => {
    writeFileSync(join(dir.path, 'small.json'), '{"a":"1"}');
    const quiet = await runCli(['init', 'small.json', '--address', serve.address], { cwd: dir.path });
    expect(quiet.stderr).toBe('created map with 1 key\n');
    const loud = await runCli(['init', 'small.json', '--progress', '--address', serve.address], { cwd: dir.path });
    expect(loud.stderr).toMatch(/^reading small\.json \(9 B\)…\n/);
    expect(loud.stderr).toMatch(/the server already has this map \(1 key, update id 0\) in \d+\.\d s\n$/);
  });

  it('explains a server that hangs up on a request above its --max-frame-size', async () => {
    const result = await runCli(['init', 'large.json', '--address', small.address, '--data', '.syncstate-small'], { cwd: dir.path });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^syncstate: the server closed the connection without answering the 1\.\d MiB init request: probably above its maximum request size \(see syncstate serve --max-frame-size\)$/,
    );
  });
});
