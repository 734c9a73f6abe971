#!/usr/bin/env node
// The `syncstate` command. Ctrl-C (or SIGTERM) asks the running command to
// stop cleanly; a second one exits at once.
import { run } from './main.js';
import { workerNumber } from './workers.js';

const controller = new AbortController();
let interrupts = 0;
const stop = (): void => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  controller.abort();
};
// Ctrl-C reaches a whole process group: a worker of `serve --workers` waits for its primary's SIGTERM
// instead, so that it stops once, cleanly, rather than twice (which exits at once).
const onInterrupt = workerNumber() === undefined ? stop : (): void => {};
process.on('SIGINT', onInterrupt);
process.on('SIGTERM', stop);

const code = await run(process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  env: process.env,
  signal: controller.signal,
});
process.off('SIGINT', onInterrupt);
process.off('SIGTERM', stop);
process.exitCode = code;
// A worker of `serve --workers`: its channel to the primary would keep it alive.
if (process.connected) process.disconnect();
