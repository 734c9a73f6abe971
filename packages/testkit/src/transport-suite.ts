// What every transport of the server must do on real sockets: lifecycle,
// counters, limits and timeouts, and surviving the hostile battery. Run for
// node:tls in packages/server (server.test.ts, robustness.test.ts) and for the
// native transport in packages/transport-rustls, so both are held to the same tests.
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect as connectTls } from 'node:tls';
import fc from 'fast-check';
import { decodeDiffEntries, kinds } from '@syncstate-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSelfSignedCertificate,
  createServer,
  ServerClosedError,
  type ServerLimits,
  type SyncStateServer,
  type TransportFactory,
} from '@syncstate-ts/server';
import { kvEvent, kvHook, startKvServer, type KvEvent } from './kv-server.js';
import { attackArb, outcomes, runAttacks, tally, type Target } from './battery.js';
import { hashOf, req } from './fixtures.js';
import { closedWithin, frameRequest, rawTls, request, silentTcp, unframeResponse } from './wire.js';

const PASSWORD = 'pw';
const MiB = 1024 * 1024;
const pairs: Array<[string, string]> = [['k', 'v']];

/** Lifecycle, counters and hardening of a server on `transport` (undefined: the default, node:tls). */
export function describeTransport(transport: TransportFactory | undefined): void {
  let cert: string;
  let key: string;

  beforeAll(async () => {
    ({ cert, key } = await createSelfSignedCertificate());
  });

  function kvServer(limits: Partial<ServerLimits> = {}, extra: { initDelayMs?: number; port?: number } = {}) {
    return createServer<string, string, KvEvent>({
      tls: { cert, key },
      password: PASSWORD,
      key: kinds.string,
      value: kinds.string,
      event: kvEvent,
      hooks: [kvHook],
      initHooks: extra.initDelayMs ? [() => sleep(extra.initDelayMs)] : [],
      limits,
      port: extra.port,
      transport,
    });
  }

  describe('lifecycle', () => {
    it('listens on 127.0.0.1 with port 0, signals ready, and reports its address', async () => {
      const server = kvServer();
      expect(server.address()).toBeNull();
      const listening = server.listen();
      expect(server.listen()).toBe(listening);
      const address = await listening;
      expect(address.address).toBe('127.0.0.1');
      expect(address.port).toBeGreaterThan(0);
      expect(await server.ready).toEqual(address);
      expect(server.address()).toEqual(address);
      expect(await request(address.port, cert, PASSWORD, req.getUpdateId(await hashOf(pairs)))).toEqual({ type: 'HashNotFound' });
      await server.close();
      expect(server.address()).toBeNull();
    });

    it('close() is idempotent, refuses new connections, and a closed server cannot listen again', async () => {
      const server = kvServer();
      const { port } = await server.listen();
      const closing = server.close();
      expect(server.close()).toBe(closing);
      await closing;
      const after = await rawTls(port, cert, new Uint8Array(0), { timeoutMs: 2_000 });
      expect(after.outcome).toBe('error');
      await expect(server.listen()).rejects.toBeInstanceOf(ServerClosedError);
    });

    it('listen() rejects (and ready with it) when the port is taken', async () => {
      const first = kvServer();
      const { port } = await first.listen();
      const second = kvServer({}, { port });
      await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(second.ready).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await second.close();
      await first.close();
    });

    it('answers a client that half-closes right after its request', async () => {
      const server = kvServer();
      const { port } = await server.listen();
      const result = await rawTls(port, cert, frameRequest(PASSWORD, req.getUpdateId(await hashOf(pairs))), { endAfterWrite: true });
      expect(unframeResponse(result.bytes)).toEqual(Buffer.from([2])); // HashNotFound
      await server.close();
    });

    it('close() before listen() resolves, and ready rejects', async () => {
      const server = kvServer();
      await server.close();
      await expect(server.ready).rejects.toBeInstanceOf(ServerClosedError);
    });

    it('close() lets a request in progress finish, and cuts off connections that have not sent a request', async () => {
      const server = kvServer({}, { initDelayMs: 200 });
      const { port } = await server.listen();
      const silent = await silentTcp(port); // no TLS handshake
      const idleTls = connectTls({ host: '127.0.0.1', port, ca: cert });
      await new Promise((r) => idleTls.once('secureConnect', r));
      const inFlight = request(port, cert, PASSWORD, await req.init(pairs));
      await sleep(50); // the init hook is running
      const closed = server.close();
      expect(await closedWithin(silent, 1_000)).toBe(true);
      expect(await closedWithin(idleTls, 1_000)).toBe(true);
      expect(await inFlight).toEqual({ type: 'InitSuccess' });
      await closed;
      expect(server.metrics().connections.active).toBe(0);
    });

    it('reads a multi-megabyte request and writes a multi-megabyte answer whole', async () => {
      const server = kvServer();
      const { port } = await server.listen();
      const big: Array<[string, string]> = Array.from({ length: 60_000 }, (_, i) => [`key-${i}`, `value-${i}`.padEnd(40, '.')]);
      const init = await req.init(big);
      expect(frameRequest(PASSWORD, init).length).toBeGreaterThan(2 * MiB);
      expect(await request(port, cert, PASSWORD, init)).toEqual({ type: 'InitSuccess' });
      const answer = await request(port, cert, PASSWORD, req.getDiff(await hashOf(big), 0n, 0n));
      expect(answer?.type).toBe('Diff');
      expect(decodeDiffEntries((answer as { encodedDiff: Uint8Array }).encodedDiff, kinds.string, kinds.string)).toHaveLength(60_000);
      await server.close();
    });

    it('counts requests, responses, bytes and connections', async () => {
      const server = kvServer();
      const { port } = await server.listen();
      const hash = await hashOf(pairs);
      await request(port, cert, PASSWORD, await req.init(pairs));
      await request(port, cert, PASSWORD, req.getUpdateId(hash));
      await request(port, cert, 'nope', req.getUpdateId(hash));
      await request(port, cert, PASSWORD, req.event(hash, { type: 'Set', value: ['k', 'w'] }));
      await request(port, cert, PASSWORD, req.getDiff(hash, 0n, 1n));
      await server.close();
      const m = server.metrics();
      expect(m.requests).toEqual({ GetUpdateId: 2, Event: 1, GetDiff: 1, Init: 1 });
      expect(m.responses).toEqual({
        IncorrectPassword: 1,
        UpdateId: 1,
        HashNotFound: 0,
        EventInProcess: 1,
        InitSuccess: 1,
        HashMismatch: 0,
        Diff: 1,
        InitFailure: 0,
      });
      expect(m.connections).toEqual({ active: 0, total: 5, rejected: 0 });
      expect(m).toMatchObject({ maps: 1, eventsProcessed: 1, hookFailures: 0, errors: {} });
      expect(m.bytesIn).toBeGreaterThan(5 * 40);
      expect(m.bytesOut).toBe(4 * 5 + 1 + 2 + 1 + 1 + (1 + 1 + 1 + 1 + 1 + 5)); // framed answers; the Diff holds one pair
    });
  });

  describe('hardening on real sockets', () => {
    it('closes a silent TCP connection after handshakeTimeoutMs', async () => {
      const server = kvServer({ handshakeTimeoutMs: 150 });
      const { port } = await server.listen();
      const socket = await silentTcp(port);
      expect(await closedWithin(socket, 2_000)).toBe(true);
      await server.close();
      expect(server.metrics().errors).toEqual({ 'handshake-timeout': 1 });
    });

    it('closes a TLS connection that sends nothing after idleTimeoutMs', async () => {
      const server = kvServer({ idleTimeoutMs: 150 });
      const { port } = await server.listen();
      const result = await rawTls(port, cert, new Uint8Array(0), { timeoutMs: 3_000 });
      expect(result).toEqual({ bytes: Buffer.alloc(0), outcome: 'closed' });
      await server.close();
      expect(server.metrics().errors).toEqual({ 'idle-timeout': 1 });
    });

    it('refuses a 4 GiB length prefix at once, before the password and without allocating', async () => {
      const server = kvServer();
      const { port } = await server.listen();
      const result = await rawTls(port, cert, Uint8Array.of(0xff, 0xff, 0xff, 0xff), { timeoutMs: 3_000 });
      expect(result.outcome).not.toBe('timeout');
      expect(result.bytes.length).toBe(0);
      expect(await request(port, cert, PASSWORD, req.getUpdateId(await hashOf(pairs)))).toEqual({ type: 'HashNotFound' });
      await server.close();
      expect(server.metrics().errors).toEqual({ 'frame-too-large': 1 });
    });

    it('cuts off a peer that stops reading a large answer after drainTimeoutMs; others are served meanwhile', async () => {
      const server = kvServer({ drainTimeoutMs: 300 });
      const { port } = await server.listen();
      const keys: Array<[string, string]> = [['a', ''], ['b', ''], ['c', '']];
      expect(await request(port, cert, PASSWORD, await req.init(keys))).toEqual({ type: 'InitSuccess' });
      const hash = await hashOf(keys);
      // 3 × 8 MB of values: a GetDiff answer of ~24 MB, far more than the socket buffers hold.
      const big = 'x'.repeat(8 * MiB);
      for (const k of ['a', 'b', 'c']) {
        expect(await request(port, cert, PASSWORD, req.event(hash, { type: 'Set', value: [k, big] }))).toEqual({ type: 'EventInProcess' });
      }
      const stalled = connectTls({ host: '127.0.0.1', port, ca: cert });
      stalled.on('error', () => {});
      await new Promise((r) => stalled.once('secureConnect', r));
      stalled.write(frameRequest(PASSWORD, req.getDiff(hash, 0n, 3n)));
      stalled.pause(); // reads nothing: the server's writes stall
      for (let i = 0; i < 300 && !server.metrics().errors['drain-timeout']; i++) await sleep(20);
      expect(server.metrics().errors).toEqual({ 'drain-timeout': 1 });
      expect(await request(port, cert, PASSWORD, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 3n });
      stalled.destroy();
      await server.close();
    });

    it('caps open connections; the extra ones are closed at once, and service resumes when they go', async () => {
      const server = kvServer({ maxConnections: 3, handshakeTimeoutMs: 60_000 });
      const { port } = await server.listen();
      const held = await Promise.all([silentTcp(port), silentTcp(port), silentTcp(port)]);
      await sleep(50);
      const extra = await silentTcp(port);
      expect(await closedWithin(extra, 1_000)).toBe(true);
      expect(server.metrics().connections).toMatchObject({ active: 3, rejected: 1 });
      for (const s of held) s.destroy();
      await sleep(50);
      expect(await request(port, cert, PASSWORD, req.getUpdateId(await hashOf(pairs)))).toEqual({ type: 'HashNotFound' });
      await server.close();
    });

    it('slow and silent clients cannot exhaust it: all are cut off by the timeouts, then normal clients are served', async () => {
      const server = kvServer({ maxConnections: 40, handshakeTimeoutMs: 300, idleTimeoutMs: 300, requestTimeoutMs: 600 });
      const { port } = await server.listen();
      const silent = await Promise.all(Array.from({ length: 15 }, () => silentTcp(port)));
      const trickles = Array.from({ length: 15 }, () => {
        const socket = connectTls({ host: '127.0.0.1', port, ca: cert });
        socket.on('error', () => {});
        let timer: NodeJS.Timeout | undefined;
        socket.once('secureConnect', () => {
          socket.write(Uint8Array.of(0, 0, 1, 0)); // announces 256 bytes...
          timer = setInterval(() => socket.writable && socket.write(Uint8Array.of(7)), 100); // ...one every 100 ms
        });
        return new Promise<void>((resolve) => socket.once('close', () => (clearInterval(timer), resolve())));
      });
      for (let i = 0; i < 100 && server.metrics().connections.active < 30; i++) await sleep(10);
      expect(server.metrics().connections.active).toBe(30);
      const closedSilent = await Promise.all(silent.map((s) => closedWithin(s, 3_000)));
      await Promise.all(trickles);
      expect(closedSilent.every(Boolean)).toBe(true);
      await sleep(50);
      expect(server.metrics().connections.active).toBe(0);
      expect(server.metrics().errors).toEqual({ 'handshake-timeout': 15, 'request-timeout': 15 });
      expect(await request(port, cert, PASSWORD, req.getUpdateId(await hashOf(pairs)))).toEqual({ type: 'HashNotFound' });
      await server.close();
    });
  });
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * A server on `transport` under the battery of battery.ts; `onOutcomes`
 * receives each attack's outcome, for comparison with the Rust server's.
 */
export function describeBattery(
  transport: TransportFactory | undefined,
  options: { seed: number; report?: boolean; onOutcomes?: (outcomes: string[]) => void },
): void {
  const PASSWORD = 'battery';
  const SEED = options.seed;
  const pairs: Array<[string, string]> = [['alpha', '1'], ['beta', '2']];
  let cert: string;
  let key: string;
  let knownHash: Uint8Array;

  beforeAll(async () => {
    ({ cert, key } = await createSelfSignedCertificate());
    knownHash = await hashOf(pairs);
  });

  describe('our TLS server under the battery', () => {
    let server: SyncStateServer<string, string, KvEvent>;

    beforeAll(async () => {
      server = await startKvServer({
        transport,
        cert,
        key,
        password: PASSWORD,
        limits: {
          handshakeTimeoutMs: 500,
          idleTimeoutMs: 500,
          requestTimeoutMs: 1_000,
          incorrectPasswordDelayMs: [0, 1],
        },
      });
    });

    afterAll(async () => {
      await server?.close();
    });

    it('survives thousands of hostile connections and idle ones; answers stay correct; memory stays flat', async () => {
      const { port } = server.address()!;
      expect(await request(port, cert, PASSWORD, await req.init(pairs))).toEqual({ type: 'InitSuccess' });
      const target: Target = { port, ca: cert, password: PASSWORD, knownHash };
      const attacks = fc.sample(attackArb(target, { maxFrameSize: 16 * MiB, maxOversized: 0xffff_ffff }), {
        numRuns: 1_500,
        seed: SEED,
      });
      const heapBefore = heapUsed();
      const idle = await Promise.all(Array.from({ length: 50 }, () => silentTcp(port)));
      const results = await runAttacks(target, attacks, { concurrency: 8, timeLimitMs: 20_000, attackTimeoutMs: 5_000 });
      const counts = tally(results);
      if (options.report) console.info('ours', results.length, counts);
      options.onOutcomes?.(outcomes(results));

      expect(results.length).toBeGreaterThan(1_000);
      // Every connection is answered or closed promptly; never a hang or a garbled answer.
      expect(results.filter((r) => r.outcome === 'timeout' || r.outcome === 'garbled-answer')).toEqual([]);
      expect(results.filter((r) => r.outcome === 'error' && r.attack.kind !== 'oversized')).toEqual([]);
      for (const kind of ['random', 'mutated', 'truncated', 'oversized']) {
        expect(results.some((r) => r.attack.kind === kind)).toBe(true);
      }
      expect(results.filter((r) => r.attack.kind === 'oversized' && r.outcome === 'answered')).toEqual([]);
      expect((await Promise.all(idle.map((s) => closedWithin(s, 3_000)))).every(Boolean)).toBe(true);

      // Afterwards: a normal client gets correct answers.
      expect(await request(port, cert, PASSWORD, req.event(knownHash, { type: 'Set', value: ['beta', 'after'] }))).toEqual({
        type: 'EventInProcess',
      });
      const id = await request(port, cert, PASSWORD, req.getUpdateId(knownHash));
      expect(id?.type).toBe('UpdateId');
      const m = server.metrics();
      expect(m.errors.internal).toBeUndefined();
      expect(m.maps).toBe(1);
      expect(m.errors['frame-too-large']).toBe(results.filter((r) => r.attack.kind === 'oversized').length);
      for (let i = 0; i < 50 && server.metrics().connections.active > 0; i++) await sleep(20);
      expect(server.metrics().connections.active).toBe(0);
      expect(heapUsed() - heapBefore).toBeLessThan(24 * MiB);
    }, 60_000);
  });
}
