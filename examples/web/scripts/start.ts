// `pnpm example:web`: builds the page, starts `syncstate serve` on loopback
// with a WebSocket port and a tokens file (an editor token and a read-only
// one, made for this run), serves the built page, and prints the URLs to
// open. Maps live in memory; Ctrl-C stops everything.
//
//   pnpm example:web [--port 5173]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildExample } from './build.ts';
import { serveStatic } from './static.ts';

const portFlag = process.argv.indexOf('--port');
const webPort = portFlag > 0 ? Number(process.argv[portFlag + 1]) : 0;

console.log('building the page (vite build)…');
const dist = await buildExample();

const data = mkdtempSync(join(tmpdir(), 'syncstate-example-web-'));
const editor = `editor-${randomBytes(12).toString('hex')}`;
const reader = `reader-${randomBytes(12).toString('hex')}`;
writeFileSync(join(data, 'tokens'), `# made by pnpm example:web for this run\n${editor} write\n${reader} read\n`, { mode: 0o600 });

// The real command, from the workspace's sources, as `pnpm syncstate serve …` runs it.
const cli = fileURLToPath(new URL('../../../packages/cli/src/bin.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const serve = spawn(
  process.execPath,
  ['--import', tsx, '--conditions=@syncstate-ts/source', cli, 'serve', '--data', data, '--memory', '--port', '0', '--ws-port', '0', '--ws-plain', '--tokens', join(data, 'tokens'), '--log-level', 'warn', '--log-format', 'pretty'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const wsUrl = await new Promise<string>((resolve, reject) => {
  createInterface({ input: serve.stdout! }).on('line', (line) => {
    const match = /websocket on (ws:\/\/\S+)/.exec(line);
    if (match !== null) resolve(match[1]!);
  });
  serve.once('exit', (code) => reject(new Error(`syncstate serve exited (${code}) before listening`)));
});

const web = await serveStatic(dist, { port: webPort });
const page = (token: string): string => `${web.url}#url=${encodeURIComponent(wsUrl)}&token=${token}`;
console.log(`
syncstate serve: WebSocket on ${wsUrl} (maps in memory, data in ${data})
the page:        ${web.url}

open as an editor (two windows see each other's changes):
  ${page(editor)}
open read only (edits are refused, and the page says so):
  ${page(reader)}

Ctrl-C stops the server and the page.`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await web.close();
  serve.kill('SIGTERM');
  await new Promise((resolve) => (serve.exitCode !== null ? resolve(undefined) : serve.once('exit', resolve)));
  rmSync(data, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
serve.once('exit', (code) => {
  if (stopping) return;
  console.error(`syncstate serve exited (${code})`);
  void web.close().then(() => process.exit(1));
});
