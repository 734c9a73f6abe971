// Live scenarios of the real Rust client against one of our servers, shared
// by the node:tls tests (packages/server/test/rust-client.test.ts) and the
// rustls transport's, so that both transports are held to the same Rust
// client behaviour.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSelfSignedCertificate, type SyncStateServer } from '@syncstate-ts/server';
import { hashOf, payload, req } from './fixtures.js';
import { startKvServer, type KvEvent } from './kv-server.js';
import { RustClient } from './rust.js';

type Got = { pairs: Array<[string, string]>; update_id: string; hash: string | null };

export interface Live {
  server: SyncStateServer<string, string, KvEvent>;
  rust: RustClient;
  password: string;
  /** The server's certificate (PEM), the client's only trusted root. */
  cert: string;
  key: string;
}

/**
 * For the tests of a describe block: the README server (kv-server.ts) on a
 * new self-signed certificate, with `options` (transport, limits...), and a
 * Rust client bound to it; started before the tests, closed after them. The
 * function returned gives them while the tests run.
 */
export function liveKvServer(
  password: string,
  options: Omit<Parameters<typeof startKvServer>[0], 'cert' | 'key' | 'password'> = {},
): () => Live {
  let live: Live | undefined;
  let server: SyncStateServer<string, string, KvEvent> | undefined;
  let rust: RustClient | undefined;
  beforeAll(async () => {
    const { cert, key } = await createSelfSignedCertificate();
    server = await startKvServer({ ...options, cert, key, password });
    rust = RustClient.start({ port: server.address()!.port, rootCert: cert, password });
    live = { server, rust, password, cert, key };
  });
  afterAll(async () => {
    await rust?.close();
    await server?.close();
  });
  return () => {
    if (live === undefined) throw new Error('the server and the Rust client run only while the tests run');
    return live;
  };
}

/**
 * `live()` gives the README server (kv-server.ts, idleTimeoutMs 1 s),
 * its password and a Rust client bound to it, once they run.
 */
export function rustClientScenarios(
  live: () => { server: SyncStateServer<string, string, KvEvent>; rust: RustClient; password: string },
): void {
  it('a 10,000-pair map: Init, four SetMany events, and a 10,000-pair diff read whole by the Rust client', async () => {
    const { server, rust } = live();
    const keys = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'));
    // Empty values keep the Init request under 64 KiB, the most the Rust client sends (next test).
    await rust.ok({ op: 'new', id: 'big', pairs: keys.map((k) => [k, '']) });
    const { hash } = await rust.ok<{ hash: string }>({ op: 'freeze', id: 'big' });
    for (let part = 0; part < 4; part++) {
      const pairs = keys.slice(part * 2_500, (part + 1) * 2_500).map((k) => [k, `v-${k}`]);
      await rust.ok({ op: 'send_event', id: 'big', event: { SetMany: pairs } });
    }
    const before = server.metrics();
    expect(await rust.ok({ op: 'set_update_id', id: 'big', target: '4' })).toEqual({ update_id: '4' });
    const got = await rust.ok<Got>({ op: 'get', id: 'big' });
    expect(got.pairs.length).toBe(10_000);
    expect(got.pairs).toEqual(keys.map((k) => [k, `v-${k}`]));
    expect(got.hash).toBe(hash);
    // One answer of 10,000 pairs, well above 64 KiB, written completely.
    expect(server.metrics().bytesOut - before.bytesOut).toBeGreaterThan(100_000);
  });

  it('Rust client defect: it sends only the first 64 KiB of a larger request; our server cuts the rest of it off', async () => {
    const { server, rust, password } = live();
    const before = server.metrics();
    const pairs = Array.from({ length: 5_000 }, (_, i) => [`key-${i}`, `value-${i}`]);
    await rust.ok({ op: 'new', id: 'huge', pairs });
    const failed = await rust.err({ op: 'freeze', id: 'huge' });
    expect(failed.debug).toContain('peer closed connection without sending TLS close_notify');
    const after = server.metrics();
    expect(after.errors['idle-timeout']! - (before.errors['idle-timeout'] ?? 0)).toBe(1);
    // The whole GetUpdateId, then the Init's length prefix and its first 64 KiB only.
    const getUpdateId = 4 + payload(password, req.getUpdateId(await hashOf(pairs as Array<[string, string]>))).length;
    expect(after.bytesIn - before.bytesIn).toBe(getUpdateId + 4 + 65_536);
    expect(after.maps).toBe(before.maps);
  });

  it('many Rust clients at once: one map per hash, events applied one at a time, every client served', async () => {
    const { server, rust } = live();
    const shared: Array<[string, string]> = Array.from({ length: 8 }, (_, i) => [`slot${i}`, 'empty']);
    const before = server.metrics();
    const sharedScripts = shared.map(([k], i) => [
      { op: 'new', id: 's', pairs: shared },
      { op: 'freeze', id: 's' },
      { op: 'send_event', id: 's', event: { Set: [k, `client-${i}`] } },
    ]);
    const ownScripts = Array.from({ length: 6 }, (_, i) => [
      { op: 'new', id: 'o', pairs: [['own', `${i}`]] },
      { op: 'freeze', id: 'o' },
      { op: 'send_event', id: 'o', event: { Set: ['own', `changed-${i}`] } },
      { op: 'set_update_id', id: 'o', target: '1' },
      { op: 'get', id: 'o' },
    ]);
    const results = await rust.ok<Array<Array<{ ok?: unknown; err?: string }>>>({
      op: 'parallel',
      scripts: [...sharedScripts, ...ownScripts],
    });
    for (const script of results) for (const step of script) expect(step).toHaveProperty('ok');
    for (const [i, script] of results.slice(8).entries()) {
      expect(script[4]!.ok).toMatchObject({ pairs: [['own', `changed-${i}`]], update_id: '1' });
    }
    const after = server.metrics();
    expect(after.maps - before.maps).toBe(1 + 6);
    expect(after.responses.InitSuccess - before.responses.InitSuccess).toBe(after.requests.Init - before.requests.Init);
    // A late client sees all eight events of the shared map.
    await rust.ok({ op: 'new', id: 'late', pairs: shared });
    await rust.ok({ op: 'freeze', id: 'late' });
    expect(await rust.ok({ op: 'set_update_id', id: 'late', target: '8' })).toEqual({ update_id: '8' });
    expect((await rust.ok<Got>({ op: 'get', id: 'late' })).pairs).toEqual(
      shared.map(([k], i) => [k, `client-${i}`]).sort(),
    );
  });

  it('runs the README example (fixtures client.rs `example`) against the README server', async () => {
    const { rust } = live();
    expect(await rust.ok({ op: 'example' })).toEqual({ pairs: [['greeting', 'hi from Rust']], update_id: '1' });
  });
}

let timedMaps = 0;

/**
 * The crate's client leaves Nagle on and writes a request in two pieces, so a
 * server that lets Linux delay its acknowledgements makes it wait ~40 ms per
 * request (docs/protocol.md, "The clients"). A guard against that gross stall
 * (a median of 40+ ms against well under 5 ms), not a timing benchmark.
 */
export function noDelayedAckStallScenario(live: () => { rust: RustClient }): void {
  it('the Rust client is answered without waiting on a delayed-ACK timer: median under 15 ms over 30 sequential requests of each kind', async () => {
    const { rust } = live();
    const id = `timed-${timedMaps++}`;
    // Keys `key-i`: the fixture's timed events set them in turn.
    await rust.ok({ op: 'new', id, pairs: Array.from({ length: 20 }, (_, i) => [`key-${i}`, `value-${i}`]) });
    await rust.ok({ op: 'freeze', id });
    const medians: Record<string, number> = {};
    for (const request of ['get-update-id', 'event', 'get-diff']) {
      const { us } = await rust.ok<{ us: number[] }>({ op: 'time', id, request, count: 30 });
      expect(us).toHaveLength(30);
      medians[request] = [...us].sort((a, b) => a - b)[15]! / 1000;
    }
    expect(Math.max(...Object.values(medians)), `median ms by request: ${JSON.stringify(medians)}`).toBeLessThan(15);
  });
}
