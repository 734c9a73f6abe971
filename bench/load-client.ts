// A load generator process for the websocket suite: N clients of ours, each
// sending GetUpdateId one at a time, as independent users would. The suite
// runs two of these side by side (one per core), so that the generator is
// not one Node thread taking turns with the server, as the Rust generator
// (`bench remote`, a thread per client) is not either.
//
//   load-client.ts websocket URL TOKEN HASH CLIENTS WARMUP_MS DURATION_MS
//   load-client.ts tls PORT CA_FILE PASSWORD HASH CLIENTS WARMUP_MS DURATION_MS
//
// Once its clients are connected it prints "ready" and waits for a line on
// stdin, so that several generators measure the same moments; then prints
// {"elapsedMs": …, "timesMs": [… one per request completed in the measured window]}.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { kinds } from '@syncstate-ts/core';
import { TcpStateRemote, WebSocketRemote, type WebSocketConstructor } from '@syncstate-ts/remote';

const [carrier, ...args] = process.argv.slice(2);
let remotes: Array<{ getUpdateId(hash: Uint8Array): Promise<bigint>; close?(): void }>;
let rest: string[];
if (carrier === 'websocket') {
  const [url, token, ...more] = args as [string, string, ...string[]];
  rest = more;
  const ws = Array.from({ length: Number(more[1]) }, () => new WebSocketRemote({ url, token, key: kinds.string, value: kinds.string, WebSocket: WebSocket as unknown as WebSocketConstructor }));
  await Promise.all(ws.map((r) => r.connect()));
  remotes = ws;
} else if (carrier === 'tls') {
  const [port, caFile, password, ...more] = args as [string, string, string, ...string[]];
  rest = more;
  const ca = readFileSync(caFile, 'utf8');
  remotes = Array.from({ length: Number(more[1]) }, () => new TcpStateRemote({ port: Number(port), tls: { ca }, password, key: kinds.string, value: kinds.string }));
} else {
  throw new Error(`unknown carrier ${carrier}`);
}
const [hashHex, , warmupMs, durationMs] = rest as [string, string, string, string];
const hash = Uint8Array.from(Buffer.from(hashHex, 'hex'));

process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

let measuring = false;
let stop = false;
const timesMs: number[] = [];
const loops = remotes.map(async (remote) => {
  while (!stop) {
    const t0 = performance.now();
    await remote.getUpdateId(hash);
    if (measuring) timesMs.push(performance.now() - t0);
  }
});
await new Promise((resolve) => setTimeout(resolve, Number(warmupMs)));
measuring = true;
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, Number(durationMs)));
measuring = false;
const elapsedMs = performance.now() - started;
stop = true;
await Promise.all(loops);
for (const remote of remotes) remote.close?.();
// Exit once the output is written (the sockets' timers would keep the process a while).
process.stdout.write(`${JSON.stringify({ elapsedMs, timesMs })}\n`, () => process.exit(0));
