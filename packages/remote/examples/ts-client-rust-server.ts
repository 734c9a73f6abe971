// A TypeScript client of a Rust syncstate 0.3.0 server (`TcpStateServer<String, String, KvEvent>`).
//
//   SYNCSTATE_ADDRESS=127.0.0.1:7878 SYNCSTATE_CA=cert.pem SYNCSTATE_PASSWORD=HelloWorld \
//     npx tsx ts-client-rust-server.ts
//
// It registers a map (or finds it), catches up, sends two events and prints
// the changes the server's hooks make, as it sees them by polling.
// README:begin
import { readFileSync } from 'node:fs';
import { t } from '@syncstate-ts/codec';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote, type SyncResult } from '@syncstate-ts/remote';

// The server's event type, variant for variant in declaration order:
//   enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>), Noop, Fail { reason: String } }
const KvEvent = t.enumOf({
  Set: t.tuple(t.string, t.string),
  SetMany: t.vec(t.tuple(t.string, t.string)),
  Noop: t.unit,
  Fail: t.struct({ reason: t.string }),
});

const remote = new TcpStateRemote({
  address: process.env.SYNCSTATE_ADDRESS ?? '127.0.0.1:7878',
  // The server's certificate (or its CA). Rust clients check it against the
  // IP they dial, so a Rust server's certificate carries an IP SAN.
  tls: { ca: readFileSync(process.env.SYNCSTATE_CA ?? 'cert.pem') },
  password: process.env.SYNCSTATE_PASSWORD ?? 'HelloWorld',
  key: kinds.string, // StateMap<String, String> on the Rust side
  value: kinds.string,
});

// Every client builds the same initial map: its hash names it on the server.
const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
map.push('color', 'red');
map.push('size', 'M');
await map.freeze(); // GetUpdateId; Init with the whole map if the server does not know it yet
const hash = map.hash()!;

await remote.sync(map); // catch up: the map may have changed since it was created
console.log(`map ${Buffer.from(hash).toString('hex').slice(0, 16)}…: update ${map.getUpdateId()} ${show(map)}`);

// Hooks run on the server after it acknowledges an event, so wait for each
// change by polling before sending the next (the server orders nothing).
const updates = remote.watch(map, { intervalMs: 50, signal: AbortSignal.timeout(10_000) });

await remote.sendEvent(new Event(KvEvent, { type: 'Set', value: ['color', 'blue'] }), hash);
report((await updates.next()).value);

await remote.sendEvent(
  new Event(KvEvent, { type: 'SetMany', value: [['color', 'green'], ['size', 'L']] }),
  hash,
);
report((await updates.next()).value);

await updates.return(); // stop polling
console.log(`final: update ${map.getUpdateId()} ${show(map)}`);

function report(update: SyncResult<string, string> | void): void {
  if (update === undefined) throw new Error('no update from the server within 10 s');
  const changes = update.changes
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((c) => `${c.key} ${c.previous} -> ${c.value}`);
  console.log(`update ${update.toUpdateId}: ${changes.join(', ')}`);
}

function show(m: StateMap<string, string>): string {
  return JSON.stringify(Object.fromEntries(m));
}
// README:end
