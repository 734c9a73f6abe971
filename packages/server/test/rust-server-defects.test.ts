// The Rust server's known defects (docs/protocol.md, "Server behaviour"), each measured on the
// real Rust TcpStateServer (`syncstate-fixtures server`) and, side by side,
// the same input against our server. If a Rust assertion starts failing, the
// defect list in the README is out of date.
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, type SyncStateServer } from '@syncstate-ts/server';
import { hashOf, req } from '@syncstate-ts/testkit/fixtures';
import { type RustServer, startRustServer } from '@syncstate-ts/testkit/rust';
import { closedWithin, frameRequest, rawTls, request, silentTcp } from '@syncstate-ts/testkit/wire';
import { startKvServer, type KvEvent } from '../examples/ts-server.js';

const PASSWORD = 'pw';
const MiB = 1024 * 1024;
let cert: string;
let key: string;
let ours: SyncStateServer<string, string, KvEvent>;

beforeAll(async () => {
  ({ cert, key } = await createSelfSignedCertificate());
  ours = await startKvServer({
    cert,
    key,
    password: PASSWORD,
    limits: { handshakeTimeoutMs: 300, idleTimeoutMs: 300, requestTimeoutMs: 1_000 },
  });
});

afterAll(async () => {
  await ours?.close();
});

async function withRust<T>(fn: (rust: RustServer) => Promise<T>, addressSpaceKiB?: number): Promise<T> {
  const rust = await startRustServer({ cert, key, password: PASSWORD, ...(addressSpaceKiB ? { addressSpaceKiB } : {}) });
  try {
    return await fn(rust);
  } finally {
    await rust.stop();
  }
}

function openTls(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca: cert }, () => resolve(socket));
    socket.once('error', reject);
  });
}


/** A map with `updates` Set events applied (each a history entry). */
async function mapWithHistory(port: number, pairs: Array<[string, string]>, updates: number): Promise<Uint8Array> {
  const hash = await hashOf(pairs);
  expect(await request(port, cert, PASSWORD, await req.init(pairs))).toEqual({ type: 'InitSuccess' });
  for (let i = 0; i < updates; i++) {
    expect(await request(port, cert, PASSWORD, req.event(hash, { type: 'Set', value: [pairs[0]![0], `v${i}`] }))).toEqual({
      type: 'EventInProcess',
    });
  }
  for (let tries = 0; tries < 100; tries++) {
    const answer = await request(port, cert, PASSWORD, req.getUpdateId(hash));
    if (answer?.type === 'UpdateId' && answer.updateId === BigInt(updates)) return hash;
    await sleep(10);
  }
  throw new Error('events were not applied');
}

describe('a length prefix claiming a huge frame', () => {
  it('Rust allocates (and zeroes) what the 4-byte header claims, before any password check', async () => {
    await withRust(async (rust) => {
      const before = rust.rss();
      const socket = await openTls(rust.port);
      socket.write(Uint8Array.of(0x10, 0, 0, 0)); // claims 256 MiB, sends nothing more
      let grown = 0;
      for (let i = 0; i < 50 && grown < 200 * MiB; i++) {
        await sleep(20);
        grown = rust.rss() - before;
      }
      expect(grown).toBeGreaterThanOrEqual(200 * MiB);
      socket.destroy();
    });
  });

  it('Rust: a header claiming 4 GiB aborts the whole process when the allocation fails (here under a 1 GiB address-space limit)', async () => {
    await withRust(async (rust) => {
      await rawTls(rust.port, cert, Uint8Array.of(0xff, 0xff, 0xff, 0xff), { timeoutMs: 3_000 });
      const exit = await rust.exited;
      expect(exit.signal).toBe('SIGABRT');
      expect(exit.stderr).toContain('memory allocation of 4294967295 bytes failed');
    }, 1024 * 1024);
  });

  it('ours refuses it at once and buffers nothing, for any number of connections', async () => {
    const { port } = ours.address()!;
    const before = process.memoryUsage();
    const results = await Promise.all(
      Array.from({ length: 40 }, () => rawTls(port, cert, Uint8Array.of(0xff, 0xff, 0xff, 0xff), { timeoutMs: 3_000 })),
    );
    // 16 MiB (the limit) is accepted as a claim but only what arrives is buffered.
    const allowed = await Promise.all(
      Array.from({ length: 40 }, () => rawTls(port, cert, Uint8Array.of(0x01, 0, 0, 0, 1, 2, 3), { timeoutMs: 3_000 })),
    );
    const after = process.memoryUsage();
    expect(results.every((r) => r.outcome !== 'timeout' && r.bytes.length === 0)).toBe(true);
    expect(allowed.every((r) => r.outcome !== 'timeout' && r.bytes.length === 0)).toBe(true);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(16 * MiB);
    expect(ours.metrics().errors['frame-too-large']).toBeGreaterThanOrEqual(40);
  });
});

describe('idle connections', () => {
  it('Rust holds each silent connection, with a thread, indefinitely', async () => {
    await withRust(async (rust) => {
      const threads = rust.threads();
      const sockets = await Promise.all(Array.from({ length: 20 }, () => silentTcp(rust.port)));
      await sleep(1_500);
      expect(rust.threads() - threads).toBe(20);
      expect(sockets.filter((s) => !s.destroyed).length).toBe(20);
      for (const s of sockets) s.destroy();
    });
  });

  it('ours closes them after the handshake or idle timeout', async () => {
    const { port } = ours.address()!;
    const tcp = await Promise.all(Array.from({ length: 10 }, () => silentTcp(port)));
    const tls = await Promise.all(Array.from({ length: 10 }, () => openTls(port)));
    const closed = await Promise.all([...tcp, ...tls].map((s) => closedWithin(s, 1_500)));
    expect(closed.every(Boolean)).toBe(true);
  });
});

describe('GetDiff with from > upto', () => {
  const pairs: Array<[string, string]> = [['poison', '0'], ['other', '0']];

  it('Rust panics holding its locks: every later request, to any map, with any password, goes unanswered', async () => {
    await withRust(async (rust) => {
      const hash = await mapWithHistory(rust.port, pairs, 3);
      expect(await request(rust.port, cert, PASSWORD, req.getDiff(hash, 2n, 1n))).toBeNull();
      expect(await request(rust.port, cert, PASSWORD, req.getUpdateId(hash))).toBeNull();
      expect(await request(rust.port, cert, PASSWORD, req.getUpdateId(new Uint8Array(32)))).toBeNull();
      expect(await request(rust.port, cert, 'wrong', req.getUpdateId(hash))).toBeNull();
      expect(rust.isRunning()).toBe(true); // alive, and useless
    });
  });

  it('ours answers an empty diff and keeps serving', async () => {
    const { port } = ours.address()!;
    const hash = await mapWithHistory(port, pairs, 3);
    expect(await request(port, cert, PASSWORD, req.getDiff(hash, 2n, 1n))).toEqual({
      type: 'Diff',
      fromUpdateId: 0n,
      uptoUpdateId: 0n,
      isFull: false,
      encodedDiff: Uint8Array.of(0),
    });
    expect(await request(port, cert, PASSWORD, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 3n });
  });
});

describe('HashMismatch', () => {
  const pairs: Array<[string, string]> = [['stuck', 'no']];

  it('Rust leaves the hash "in progress": the correct Init then answers InitSuccess but no map exists', async () => {
    await withRust(async (rust) => {
      const hash = await hashOf(pairs);
      expect(await request(rust.port, cert, PASSWORD, await req.init([['stuck', 'tampered']], hash))).toEqual({ type: 'HashMismatch' });
      expect(await request(rust.port, cert, PASSWORD, await req.init(pairs))).toEqual({ type: 'InitSuccess' });
      expect(await request(rust.port, cert, PASSWORD, req.getUpdateId(hash))).toEqual({ type: 'HashNotFound' });
    });
  });

  it('ours creates the map on the correct Init', async () => {
    const { port } = ours.address()!;
    const hash = await hashOf(pairs);
    expect(await request(port, cert, PASSWORD, await req.init([['stuck', 'tampered']], hash))).toEqual({ type: 'HashMismatch' });
    expect(await request(port, cert, PASSWORD, await req.init(pairs))).toEqual({ type: 'InitSuccess' });
    expect(await request(port, cert, PASSWORD, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
  });
});

describe('answers above 64 KiB', () => {
  const pairs: Array<[string, string]> = Array.from({ length: 2_000 }, (_, i) => [`key-${i}`, 'x'.repeat(100)]);

  async function fullDiffBytes(port: number): Promise<{ announced: number; received: number }> {
    const hash = await hashOf(pairs);
    expect(await request(port, cert, PASSWORD, await req.init(pairs))).toEqual({ type: 'InitSuccess' });
    const result = await rawTls(port, cert, frameRequest(PASSWORD, req.getDiff(hash, 0n, 0n)));
    return { announced: result.bytes.readUInt32BE(0), received: result.bytes.length - 4 };
  }

  it('Rust writes only the first 64 KiB (write instead of write_all over rustls)', async () => {
    await withRust(async (rust) => {
      const { announced, received } = await fullDiffBytes(rust.port);
      expect(announced).toBeGreaterThan(200_000);
      expect(received).toBe(65_536);
    });
  });

  it('ours writes them whole', async () => {
    const { announced, received } = await fullDiffBytes(ours.address()!.port);
    expect(announced).toBeGreaterThan(200_000);
    expect(received).toBe(announced);
  });
});

describe('a payload claiming a 2^40-byte string', () => {
  // Init data: HashMap count 1, then a key String whose length is 2^40 (varint marker 253, u64 LE).
  const initData = Uint8Array.of(1, 253, 0, 0, 0, 0, 0, 1, 0, 0);

  it('Rust (bincode) allocates the claimed length and the process aborts', async () => {
    await withRust(async (rust) => {
      const hash = await hashOf([['x', 'y']]);
      expect(await request(rust.port, cert, PASSWORD, { type: 'Init', hash, initData })).toBeNull();
      const exit = await rust.exited;
      expect(exit.signal).toBe('SIGABRT');
      expect(exit.stderr).toContain('memory allocation of 1099511627776 bytes failed');
    });
  });

  it('ours closes that connection without an answer and keeps serving', async () => {
    const { port } = ours.address()!;
    const hash = await hashOf([['x', 'y']]);
    expect(await request(port, cert, PASSWORD, { type: 'Init', hash, initData })).toBeNull();
    expect(await request(port, cert, PASSWORD, await req.init([['x', 'y']]))).toEqual({ type: 'InitSuccess' });
  });
});

describe('where both behave the same', () => {
  it('wrong password: IncorrectPassword; undecodable request: closed without an answer', async () => {
    await withRust(async (rust) => {
      for (const port of [rust.port, ours.address()!.port]) {
        expect(await request(port, cert, 'guess', req.getUpdateId(new Uint8Array(32)))).toEqual({ type: 'IncorrectPassword' });
        const junk = await rawTls(port, cert, Uint8Array.of(0, 0, 0, 3, 1, 2, 3));
        expect(junk.bytes.length).toBe(0);
        expect(await request(port, cert, PASSWORD, req.getUpdateId(new Uint8Array(32)))).toEqual({ type: 'HashNotFound' });
      }
    });
  });
});
