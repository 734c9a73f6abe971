// `syncstate watch` when its server goes away: it retries with exponential
// backoff and jitter, so that watches cut off together do not all come back
// at the same moment. Two watches run in this process (run() with their own
// random source, so the pauses are known in advance) against a real server
// that is then stopped.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '@syncstate-ts/cli';
import { retryDelay } from '@syncstate-ts/remote';
import { cleanEnv, runCli, startServe, tempDir } from './helpers/cli.js';
import { seededRandom } from '@syncstate-ts/testkit/random';

const dir = tempDir('watch-retry');
afterAll(() => dir.remove());

describe('watch retries', () => {
  it('pauses a random time within the backoff range before each retry, different for each watch', async () => {
    const serve = await startServe(['--port', '0', '--memory'], { cwd: dir.path });
    const common = ['--address', serve.address, '--data', join(dir.path, '.syncstate')];
    writeFileSync(join(dir.path, 'map.json'), JSON.stringify({ color: 'red' }));
    const hash = (await runCli(['init', 'map.json', ...common], { cwd: dir.path })).stdout.trim();

    const retries = 4;
    const watches = [seededRandom(1), seededRandom(2)].map((random) => watchInProcess(['watch', hash, '--interval', '50ms', ...common], random, retries));
    await Promise.all(watches.map((w) => w.watching));
    await serve.stop(); // every poll now fails to connect

    const [a, b] = await Promise.all(watches.map((w) => w.done));
    for (const [seed, watch] of [[1, a!], [2, b!]] as const) {
      expect(watch.code).toBe(0); // Ctrl-C (the abort) ends a watch with 0
      // The pauses the watch printed are retryDelay's for its random source: uniform in
      // [interval, min(30 s, interval * 2^n)] for the nth retry in a row.
      const random = seededRandom(seed);
      const expected = Array.from({ length: retries }, (_, i) => (retryDelay(i + 1, { intervalMs: 50, maxBackoffMs: 30_000, random }) / 1000).toFixed(2));
      expect(watch.pauses).toEqual(expected);
      watch.pauses.forEach((s, i) => {
        expect(Number(s)).toBeGreaterThanOrEqual(0.05);
        expect(Number(s)).toBeLessThanOrEqual(0.05 * 2 ** (i + 1));
      });
    }
    expect(a!.pauses).not.toEqual(b!.pauses);
  });
});

/** `syncstate watch` run in this process; aborted (as by Ctrl-C) once it has printed `retries` "retrying in" lines. */
function watchInProcess(args: string[], random: () => number, retries: number): { watching: Promise<void>; done: Promise<{ code: number; pauses: string[] }> } {
  const controller = new AbortController();
  let stderr = '';
  let onWatching: () => void = () => {};
  const watching = new Promise<void>((resolve) => (onWatching = resolve));
  const pauses = (): string[] => [...stderr.matchAll(/retrying in (\d+\.\d+) s\n/g)].map((m) => m[1]!);
  const err = {
    write(text: string): boolean {
      stderr += text;
      if (stderr.includes('watching map')) onWatching();
      if (pauses().length >= retries) controller.abort();
      return true;
    },
  };
  const done = run(args, { out: { write: () => true }, err, env: cleanEnv(), signal: controller.signal, random }).then((code) => {
    onWatching(); // so that a watch that failed early does not leave the test waiting
    return { code, pauses: pauses().slice(0, retries), stderr };
  });
  return { watching, done };
}

