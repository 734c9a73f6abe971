// Runs an installed `syncstate serve` the way a user does and waits for its
// start-up report, which ends with "listening on HOST:PORT". Shared by
// scripts/pack-check.mjs (installed from tarballs) and
// test/release-flow.test.ts (installed from a registry).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * @param {string} bin path of the installed `syncstate` command
 * @param {string[]} args arguments after `serve`
 * @param {{ cwd: string, env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<{ address: string, banner: string, stop(): Promise<number | null> }>}
 *   `banner`: the report's lines up to "listening on"; `stop()` sends SIGTERM
 *   and resolves with the exit code.
 */
export async function startInstalledServe(bin, args, { cwd, env = process.env }) {
  const serve = spawn(bin, ['serve', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => serve.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (serve.exitCode === null && serve.signalCode === null) serve.kill('SIGTERM');
    return exited;
  };
  let stderr = '';
  serve.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  let banner = '';
  try {
    const address = await new Promise((resolve, reject) => {
      createInterface({ input: serve.stdout }).on('line', (line) => {
        banner += `${line}\n`;
        const m = /^listening on (\S+)$/.exec(line);
        if (m) resolve(m[1]);
      });
      serve.once('error', reject);
      exited.then((code) => reject(new Error(`syncstate serve exited (${code}) before listening:\n${banner}${stderr}`)));
    });
    return { address, banner, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
