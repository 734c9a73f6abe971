// An acknowledged event survives a SIGKILL. A real Rust client (the crate's
// TcpStateRemote through the fixture program) and TypeScript clients stream
// Set events, each for a key no other event touches, and note every event
// the server answered EventInProcess. The server is killed mid-stream three
// times; after each restart every acknowledged event's value must be there.
// (Answering before the commit lost the last acknowledged event in one of
// three kills; docs/protocol.md, "Defects of the Rust server, and what we do instead".)
// On each SQLite binding this Node has: their durability must be the same.
import { afterAll, describe, expect, it } from 'vitest';
import { kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { drivers } from './helpers/drivers.js';
import { type ChildServer, killAll, startChildServer } from './helpers/process.js';
import { eventBytes, PASSWORD, random, serverFiles, sleep, tempDir } from './helpers/setup.js';

const KEYS = 20_000;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);

afterAll(() => killAll());

describe.each(drivers)('an event answered EventInProcess (%s)', (driver) => {
  it(`survives a SIGKILL right after (three kills mid-stream, Rust and TS clients; seed ${SEED})`, { timeout: 180_000 }, async () => {
    const rng = random(SEED);
    const { dir, cleanup } = tempDir('acknowledged');
    const files = await serverFiles(dir);
    const keys = Array.from({ length: KEYS }, (_, i) => `e${i}`);
    const remote = (port: number): TcpStateRemote<string, string> =>
      new TcpStateRemote({ port, tls: { ca: files.pem }, password: PASSWORD, key: kinds.string, value: kinds.string, connectTimeoutMs: 2000 });

    let server: ChildServer = await startChildServer(files, { driver });
    const port = server.port;
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote: remote(port) });
    for (const k of keys) map.push(k, '0');
    await map.freeze(); // Init
    const hash = map.hash()!;
    const rust = RustClient.start({ port, rootCert: files.pem, password: PASSWORD });
    const acknowledged: number[] = [];
    let next = 0;
    try {
      await rust.ok({ op: 'new', id: 'r', pairs: keys.map((k) => [k, '0']) });
      await rust.ok({ op: 'freeze', id: 'r' });
      for (let round = 0; round < 3; round++) {
        if (round > 0) server = await startChildServer(files, { port, driver });
        const start = acknowledged.length;
        let running = true;
        const tsWorker = async (): Promise<void> => {
          const r = remote(port);
          while (running && next < KEYS) {
            const i = next++;
            const sent = await r.sendEvent(eventBytes({ type: 'Set', value: [`e${i}`, `ack-${i}`] }), hash).then(
              () => true,
              () => false,
            );
            if (sent) acknowledged.push(i);
          }
        };
        const rustWorker = async (): Promise<void> => {
          while (running && next < KEYS) {
            const i = next++;
            const sent = await rust.send({ op: 'send_event', id: 'r', event: { Set: [`e${i}`, `ack-${i}`] } });
            if ('ok' in sent) acknowledged.push(i);
          }
        };
        const workers = [rustWorker(), tsWorker(), tsWorker(), tsWorker()];
        await sleep(200 + rng() * 600);
        await server.kill();
        running = false;
        await Promise.all(workers);
        expect(acknowledged.length, 'events acknowledged before the kill').toBeGreaterThan(start);

        server = await startChildServer(files, { port, driver });
        const check = remote(port);
        const id = await check.getUpdateId(hash);
        const now = new Map((await check.fetchUpdates(0n, id, hash)).entries);
        const lost = acknowledged.filter((i) => now.get(`e${i}`) !== `ack-${i}`);
        expect(lost, `acknowledged events missing after kill ${round + 1}`).toEqual([]);
        await server.kill();
      }
      console.log(`acknowledged test (${driver}) seed ${SEED}: ${acknowledged.length} acknowledged events over 3 kills, none lost`);
    } finally {
      await rust.close();
      killAll();
      cleanup();
    }
  });
});
