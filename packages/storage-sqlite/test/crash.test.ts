// Crash test: a server process on a SqliteStorage is SIGKILLed at random
// moments (odd rounds: the instant a client has seen a new update id, when a
// change acknowledged before it is on disk would be lost) while TypeScript clients (TcpStateRemote) and a Rust client (the
// fixture program's `client` REPL) send events and sync two maps, then
// restarted on the same folder and port. Checked after every restart:
// - every state any client observed (update id -> values) is still what the
//   server answers for that id (GetDiff(0, id) rebuilds it), so nothing seen
//   was lost and no id was handed out twice (two observations of one id
//   with different values fail at once, across rounds and clients);
// - the server's update id is at least every id observed, and never goes back;
// - the same client objects (TS StateMaps, the Rust StateMap) carry on
//   syncing without re-initialising.
import { afterAll, describe, expect, it } from 'vitest';
import { kinds, StateMap } from '@syncstate-ts/core';
import { RemoteError, TcpStateRemote } from '@syncstate-ts/remote';
import { SqliteStorage } from '@syncstate-ts/storage-sqlite';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { type ChildServer, killAll, startChildServer } from './helpers/process.js';
import { eventBytes, loadMap, PASSWORD, random, serverFiles, sleep, tempDir } from './helpers/setup.js';

const ROUNDS = 6;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);

interface Tracked {
  name: string;
  keys: string[];
  initial: string[];
  hash: Uint8Array;
  /** update id -> values (in key order) some client saw at that id. */
  observed: Map<bigint, string>;
  /** The server's update id after each restart. */
  restarts: bigint[];
}

const failures: string[] = [];
let transientErrors = 0;
/** Called once when a client sees an id above every id seen before (then disarmed). */
let onNewId: (() => void) | undefined;

function observe(t: Tracked, id: bigint, values: string[], who: string): void {
  const seen = JSON.stringify(values);
  const before = t.observed.get(id);
  if (before !== undefined && before !== seen) failures.push(`${t.name}@${id}: ${who} saw ${seen}, earlier ${before}`);
  const isNew = [...t.observed.keys()].every((x) => x < id);
  t.observed.set(id, seen);
  if (isNew && onNewId !== undefined) {
    const fire = onNewId;
    onNewId = undefined;
    fire();
  }
}

function isTransient(err: unknown): boolean {
  return err instanceof RemoteError && ['connection-failed', 'connection-closed', 'timeout'].includes(err.code);
}

/** Rust's client reports a dead server as an I/O error. */
function isTransientRust(text: string): boolean {
  return /os error|connection|eof|end of file|broken pipe|reset|refused|tls|io error/i.test(text);
}

function remoteFor(port: number, pem: string): TcpStateRemote<string, string> {
  return new TcpStateRemote({
    port,
    tls: { ca: pem },
    password: PASSWORD,
    key: kinds.string,
    value: kinds.string,
    connectTimeoutMs: 2000,
    responseTimeoutMs: 10_000,
  });
}

class TsClient {
  readonly map: StateMap<string, string>;
  readonly remote: TcpStateRemote<string, string>;
  #n = 0;

  constructor(
    readonly name: string,
    readonly tracked: Tracked,
    port: number,
    pem: string,
  ) {
    this.remote = remoteFor(port, pem);
    this.map = new StateMap({ key: kinds.string, value: kinds.string, remote: this.remote });
    tracked.keys.forEach((k, i) => this.map.push(k, tracked.initial[i]!));
  }

  values(): string[] {
    return this.tracked.keys.map((k) => this.map.get(k)!);
  }

  async sync(): Promise<void> {
    await this.remote.sync(this.map);
    observe(this.tracked, this.map.getUpdateId(), this.values(), this.name);
  }

  async step(rng: () => number): Promise<void> {
    const keys = this.tracked.keys;
    const pick = () => keys[Math.floor(rng() * keys.length)]!;
    const r = rng();
    if (r < 0.35) {
      await this.remote.sendEvent(eventBytes({ type: 'Set', value: [pick(), `${this.name}-${this.#n++}`] }), this.map.hash()!);
    } else if (r < 0.5) {
      const pairs: Array<[string, string]> = [];
      for (let i = 1 + Math.floor(rng() * 3); i > 0; i--) pairs.push([pick(), `${this.name}-${this.#n++}`]);
      await this.remote.sendEvent(eventBytes({ type: 'SetMany', value: pairs }), this.map.hash()!);
    } else {
      await this.sync();
    }
  }
}

/** The map's values at `id` as the server answers now: GetDiff(0, id) over the initial values. */
async function stateAt(remote: TcpStateRemote<string, string>, t: Tracked, id: bigint): Promise<string> {
  const diff = await remote.fetchUpdates(0n, id, t.hash);
  expect(diff.uptoUpdateId, `${t.name} GetDiff(0, ${id})`).toBe(id);
  const values = new Map(t.keys.map((k, i) => [k, t.initial[i]!]));
  for (const [k, v] of diff.entries) values.set(k, v);
  return JSON.stringify(t.keys.map((k) => values.get(k)!));
}

afterAll(() => killAll());

describe('SIGKILL at random moments, restart on the same folder', () => {
  it(`keeps every observed change; ids never reused; clients carry on (seed ${SEED})`, { timeout: 300_000 }, async () => {
    const rng = random(SEED);
    const { dir, cleanup } = tempDir('crash');
    const files = await serverFiles(dir);
    const maps: Tracked[] = [
      { name: 'A', keys: Array.from({ length: 12 }, (_, i) => `a${i}`), initial: [], hash: new Uint8Array(), observed: new Map(), restarts: [] },
      { name: 'B', keys: Array.from({ length: 4 }, (_, i) => `b${i}`), initial: [], hash: new Uint8Array(), observed: new Map(), restarts: [] },
    ];
    for (const t of maps) t.initial = t.keys.map((k) => `${k}=0`);

    let server: ChildServer = await startChildServer(files);
    const port = server.port;
    const verifier = remoteFor(port, files.pem);
    const ts = [new TsClient('ts1', maps[0]!, port, files.pem), new TsClient('ts2', maps[0]!, port, files.pem), new TsClient('ts3', maps[1]!, port, files.pem)];
    for (const c of ts) await c.map.freeze(); // Init (or GetUpdateId for the second client of A)
    maps[0]!.hash = ts[0]!.map.hash()!;
    maps[1]!.hash = ts[2]!.map.hash()!;
    const rust = RustClient.start({ port, rootCert: files.pem, password: PASSWORD });
    let rustCounter = 0;
    const rustObserve = async (target: bigint): Promise<void> => {
      await rust.ok({ op: 'set_update_id', id: 'r', target: String(target) });
      const got = await rust.ok<{ pairs: Array<[string, string]>; update_id: string }>({ op: 'get', id: 'r' });
      const values = new Map(got.pairs);
      observe(maps[0]!, BigInt(got.update_id), maps[0]!.keys.map((k) => values.get(k)!), 'rust');
    };
    try {
      await rust.ok({ op: 'new', id: 'r', pairs: maps[0]!.keys.map((k, i) => [k, maps[0]!.initial[i]]) });
      const frozen = await rust.ok<{ hash: string }>({ op: 'freeze', id: 'r' });
      expect(frozen.hash).toBe(Buffer.from(maps[0]!.hash).toString('hex'));

      const verify = async (all: boolean): Promise<number> => {
        let checked = 0;
        for (const t of maps) {
          const id = await verifier.getUpdateId(t.hash);
          const maxObserved = [...t.observed.keys()].reduce((a, b) => (a > b ? a : b), 0n);
          expect(id, `${t.name}: server id after restart vs ids clients saw`).toBeGreaterThanOrEqual(maxObserved);
          const last = t.restarts[t.restarts.length - 1] ?? 0n;
          expect(id, `${t.name}: server id went back across a restart`).toBeGreaterThanOrEqual(last);
          t.restarts.push(id);
          let ids = [...t.observed.keys()];
          if (!all) ids = ids.filter((x) => x === maxObserved || rng() < 0.3);
          for (const at of ids) {
            expect(await stateAt(verifier, t, at), `${t.name}@${at} after restart`).toBe(t.observed.get(at));
            checked++;
          }
        }
        // The same client objects go on: a plain sync, no new freeze or Init.
        for (const c of ts) await c.sync();
        await rustObserve(await verifier.getUpdateId(maps[0]!.hash));
        expect(failures).toEqual([]);
        return checked;
      };

      for (let round = 0; round < ROUNDS; round++) {
        if (round > 0) {
          server = await startChildServer(files, { port });
          await verify(false);
        }
        let running = true;
        const tsWorker = async (c: TsClient): Promise<void> => {
          while (running) {
            try {
              await c.step(rng);
            } catch (err) {
              if (!isTransient(err)) failures.push(`${c.name}: ${String(err)}`);
              else transientErrors++;
            }
            await sleep(rng() * 4);
          }
        };
        const rustWorker = async (): Promise<void> => {
          while (running) {
            const k = maps[0]!.keys[Math.floor(rng() * maps[0]!.keys.length)]!;
            const sent = await rust.send({ op: 'send_event', id: 'r', event: { Set: [k, `rust-${rustCounter++}`] } });
            try {
              if ('err' in sent) throw new Error(`${sent.err} ${sent.debug}`);
              await rustObserve(await verifier.getUpdateId(maps[0]!.hash));
            } catch (err) {
              const text = String(err);
              if (isTransient(err) || isTransientRust(text)) transientErrors++;
              else failures.push(`rust: ${text}`);
            }
          }
        };
        const workers = [...ts.map(tsWorker), rustWorker()];
        await sleep(300 + rng() * 1500);
        if (round % 2 === 1) {
          const current = server;
          await new Promise<void>((resolve) => (onNewId = () => void current.kill().then(resolve)));
        } else {
          await server.kill();
        }
        running = false;
        await Promise.all(workers);
        expect(failures).toEqual([]);
      }

      server = await startChildServer(files, { port });
      const checked = await verify(true);
      // Every client of A ends where the server is, with the server's values.
      const finalA = await verifier.getUpdateId(maps[0]!.hash);
      const want = await stateAt(verifier, maps[0]!, finalA);
      for (const c of ts.slice(0, 2)) expect(JSON.stringify(c.values())).toBe(want);
      await server.stop();

      // What the graceful stop left on disk is what the server served.
      const storage = new SqliteStorage({ path: files.db, key: kinds.string, value: kinds.string, readOnly: true });
      const stored = (await loadMap(storage, maps[0]!.hash))!;
      expect(stored.getUpdateId()).toBe(finalA);
      expect(JSON.stringify(maps[0]!.keys.map((k) => stored.get(k)))).toBe(want);
      await storage.close();

      const changes = maps.map((t) => `${t.name}: ${t.restarts.map(String).join(' -> ')}`);
      console.log(
        `crash test seed ${SEED}: ${ROUNDS} SIGKILLs; update ids at each restart ${changes.join('; ')}; ` +
          `${checked} observed states re-checked at the end (${maps.map((t) => t.observed.size).join(' + ')} distinct ids); ` +
          `${transientErrors} requests cut by the kills`,
      );
      expect(maps[0]!.restarts[maps[0]!.restarts.length - 1]).toBeGreaterThan(20n);
    } finally {
      await rust.close();
      killAll();
      cleanup();
    }
  });
});
