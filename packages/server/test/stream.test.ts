// node:tls's stream layer (transport/stream.ts) on in-memory stream pairs: framing, limits, timeouts, backpressure.
// serveConnection, ByteBudget and Metrics are internals the package does not export: imported from src on purpose.
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '@syncstate-ts/server';
import { collect, duplexPair, frame, unframe } from '@syncstate-ts/testkit/duplex-pair';
import { describe, expect, it } from 'vitest';
import { serveConnection, type ConnectionOptions, type Responder } from '../src/transport/stream.js';
import { ByteBudget } from '../src/limits/budget.js';
import { Metrics } from '../src/metrics.js';

function setup(overrides: Partial<ConnectionOptions> = {}, pairHwm?: number) {
  const metrics = new Metrics();
  const budget = new ByteBudget(1 << 20);
  const options: ConnectionOptions = {
    maxFrameSize: 1024,
    requestTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    drainTimeoutMs: 5_000,
    budget,
    metrics,
    logger: silentLogger,
    ...overrides,
  };
  const [server, client] = duplexPair(pairHwm === undefined ? {} : { highWaterMark: pairHwm });
  return { server, client, options, metrics, budget };
}

const echo =
  (seen: Uint8Array[] = []): Responder =>
  async (payload) => {
    seen.push(payload);
    return Uint8Array.from([0xee, ...payload]);
  };

describe('serveConnection', () => {
  it('answers one frame with one frame, then closes', async () => {
    const { server, client, options, metrics } = setup();
    const seen: Uint8Array[] = [];
    const done = serveConnection(server, echo(seen), options);
    const received = collect(client);
    client.write(frame(Uint8Array.from([1, 2, 3])));
    const { bytes, ended } = await received;
    await done;
    expect(ended).toBe(true);
    expect([...unframe(bytes)]).toEqual([0xee, 1, 2, 3]);
    expect(seen.map((p) => [...p])).toEqual([[1, 2, 3]]);
    expect(metrics.bytesIn).toBe(7);
    expect(metrics.bytesOut).toBe(8);
    expect(metrics.errors).toEqual({});
  });

  it('reassembles a frame sent one byte at a time, and from every split point', async () => {
    const payload = Uint8Array.from({ length: 40 }, (_, i) => i * 3);
    const wire = frame(payload);
    for (let split = 0; split <= wire.length; split++) {
      const { server, client, options } = setup();
      const seen: Uint8Array[] = [];
      const done = serveConnection(server, echo(seen), options);
      const received = collect(client);
      if (split === 0) for (const byte of wire) client.write(Uint8Array.of(byte));
      else {
        client.write(wire.subarray(0, split));
        client.write(wire.subarray(split));
      }
      const { bytes } = await received;
      await done;
      expect([...seen[0]!]).toEqual([...payload]);
      expect(unframe(bytes).length).toBe(41);
    }
  });

  it('does not let a reused input buffer change a request already received', async () => {
    const { server, client, options } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: Uint8Array[] = [];
    const done = serveConnection(
      server,
      async (p) => {
        seen.push(p);
        await gate;
        return Uint8Array.of(...p);
      },
      options,
    );
    const received = collect(client);
    const buffer = Buffer.from(frame(Uint8Array.of(9, 9, 9)));
    client.write(buffer.subarray(0, 5));
    await sleep(5); // the server has taken the chunk
    buffer.fill(0); // and now the writer reuses its buffer
    client.write(Buffer.from([9, 9]));
    await sleep(10);
    release();
    const { bytes } = await received;
    await done;
    expect([...unframe(bytes)]).toEqual([9, 9, 9]);
  });

  it('ignores bytes after the first frame (one request per connection, as Rust)', async () => {
    const { server, client, options } = setup();
    const seen: Uint8Array[] = [];
    const done = serveConnection(server, echo(seen), options);
    const received = collect(client);
    client.write(Buffer.concat([frame(Uint8Array.of(5)), frame(Uint8Array.of(6)), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
    const { bytes } = await received;
    await done;
    expect(seen.length).toBe(1);
    expect([...unframe(bytes)]).toEqual([0xee, 5]);
  });

  it('passes an empty frame to the responder (it decides; Rust fails to decode it and hangs up)', async () => {
    const { server, client, options } = setup();
    const seen: Uint8Array[] = [];
    const done = serveConnection(server, async (p) => (seen.push(p), null), options);
    const received = collect(client);
    client.write(Buffer.from([0, 0, 0, 0]));
    const { bytes, ended } = await received;
    await done;
    expect(seen.map((p) => p.length)).toEqual([0]);
    expect(bytes.length).toBe(0);
    expect(ended).toBe(true);
  });

  it('refuses a length prefix above maxFrameSize at once, before buffering or asking the responder', async () => {
    const { server, client, options, metrics, budget } = setup({ maxFrameSize: 1024 });
    let called = false;
    const done = serveConnection(server, async () => ((called = true), null), options);
    const received = collect(client);
    let reservedDuring = -1;
    client.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), () => (reservedDuring = budget.used));
    const { bytes, ended } = await received;
    await done;
    expect(called).toBe(false);
    expect(bytes.length).toBe(0);
    expect(ended).toBe(false); // destroyed, not a clean end
    expect(reservedDuring).toBe(0);
    expect(metrics.errors).toEqual({ 'frame-too-large': 1 });
  });

  it('accepts a frame of exactly maxFrameSize', async () => {
    const { server, client, options } = setup({ maxFrameSize: 1024 });
    const done = serveConnection(server, async (p) => Uint8Array.of(p.length & 0xff, p.length >> 8), options);
    const received = collect(client);
    client.write(frame(new Uint8Array(1024).fill(7)));
    const { bytes } = await received;
    await done;
    expect([...unframe(bytes)]).toEqual([0, 4]);
  });

  it('buffers only what arrived, against the shared budget, and gives it back', async () => {
    const budget = new ByteBudget(100);
    const first = setup({ budget, maxFrameSize: 1000 });
    const second = setup({ budget, maxFrameSize: 1000 });
    const gotFirst = collect(first.client);
    const gotSecond = collect(second.client);
    const doneFirst = serveConnection(first.server, echo(), first.options);
    const doneSecond = serveConnection(second.server, echo(), second.options);
    // Both announce 1000 bytes: the headers alone reserve nothing.
    first.client.write(Buffer.from([0, 0, 0x03, 0xe8, ...new Uint8Array(60)]));
    await sleep(5);
    expect(budget.used).toBe(60);
    second.client.write(Buffer.from([0, 0, 0x03, 0xe8, ...new Uint8Array(60)])); // 120 > 100
    const secondResult = await gotSecond;
    await doneSecond;
    expect(secondResult.bytes.length).toBe(0);
    expect(second.metrics.errors).toEqual({ 'memory-budget': 1 });
    expect(budget.used).toBe(60);
    first.client.destroy();
    await gotFirst;
    await doneFirst;
    expect(budget.used).toBe(0);
  });

  it('cuts off a silent peer after idleTimeoutMs', async () => {
    const { server, client, options, metrics } = setup({ idleTimeoutMs: 50 });
    let called = false;
    const done = serveConnection(server, async () => ((called = true), null), options);
    const received = collect(client);
    client.write(Buffer.from([0, 0])); // half a header, then silence
    const { bytes, ended } = await received;
    await done;
    expect(called).toBe(false);
    expect(bytes.length).toBe(0);
    expect(ended).toBe(false);
    expect(metrics.errors).toEqual({ 'idle-timeout': 1 });
  });

  it('cuts off a slow trickle after requestTimeoutMs although it is never idle', async () => {
    const { server, client, options, metrics } = setup({ idleTimeoutMs: 100, requestTimeoutMs: 150 });
    const done = serveConnection(server, echo(), options);
    const received = collect(client);
    client.write(Buffer.from([0, 0, 0, 100]));
    const trickle = setInterval(() => client.write(Buffer.from([1])), 20);
    await received;
    await done;
    clearInterval(trickle);
    expect(metrics.errors).toEqual({ 'request-timeout': 1 });
  });

  it('counts a peer that hangs up mid-request, without calling the responder', async () => {
    const { server, client, options, metrics } = setup();
    let called = false;
    const done = serveConnection(server, async () => ((called = true), null), options);
    const received = collect(client);
    client.end(Buffer.from([0, 0, 0, 9, 1, 2]));
    await received;
    await done;
    expect(called).toBe(false);
    expect(metrics.errors).toEqual({ 'connection-closed': 1 });
  });

  it('writes a large answer completely while the peer reads slowly (write() returning false is honoured)', async () => {
    const { server, client, options } = setup({}, 4096);
    const big = new Uint8Array(1_000_000).map((_, i) => i % 251);
    let writesRefused = 0;
    const originalWrite = server.write.bind(server);
    server.write = ((chunk: Uint8Array, ...rest: never[]) => {
      const ok = originalWrite(chunk, ...rest);
      if (!ok) writesRefused++;
      return ok;
    }) as typeof server.write;
    const done = serveConnection(server, async () => big, options);
    const chunks: Buffer[] = [];
    const finished = new Promise<void>((resolve) => {
      client.on('data', (c: Buffer) => {
        chunks.push(c);
        client.pause();
        setTimeout(() => client.resume(), 0); // a slow reader
      });
      client.on('end', () => {
        client.end();
        resolve();
      });
    });
    client.write(frame(Uint8Array.of(1)));
    await finished;
    await done;
    const body = unframe(Buffer.concat(chunks));
    expect(body.length).toBe(big.length);
    expect(Buffer.compare(body, Buffer.from(big))).toBe(0);
    expect(writesRefused).toBeGreaterThan(0);
  });

  it('destroys a peer that stops reading the answer, after drainTimeoutMs', async () => {
    const { server, client, options, metrics } = setup({ drainTimeoutMs: 80 }, 1024);
    const done = serveConnection(server, async () => new Uint8Array(200_000), options);
    let received = 0;
    client.once('data', (c: Buffer) => {
      received += c.length;
      client.pause(); // and never reads again
    });
    client.write(frame(Uint8Array.of(1)));
    await done;
    expect(server.destroyed).toBe(true);
    expect(received).toBeLessThan(200_004);
    expect(metrics.errors).toEqual({ 'drain-timeout': 1 });
  });

  it('closes without an answer when the responder throws', async () => {
    const { server, client, options, metrics } = setup();
    const done = serveConnection(
      server,
      async () => {
        throw new Error('boom');
      },
      options,
    );
    const received = collect(client);
    client.write(frame(Uint8Array.of(1)));
    const { bytes } = await received;
    await done;
    expect(bytes.length).toBe(0);
    expect(metrics.errors).toEqual({ internal: 1 });
  });

  it('aborting cuts off a connection still reading, but lets an answer in progress finish', async () => {
    const reading = setup();
    const controller = new AbortController();
    const doneReading = serveConnection(reading.server, echo(), { ...reading.options, signal: controller.signal });
    reading.client.write(Buffer.from([0, 0, 0, 5, 1]));
    const answering = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const doneAnswering = serveConnection(
      answering.server,
      async () => {
        await gate;
        return Uint8Array.of(42);
      },
      { ...answering.options, signal: controller.signal },
    );
    const answered = collect(answering.client);
    answering.client.write(frame(Uint8Array.of(1)));
    await sleep(5);
    controller.abort();
    await doneReading;
    expect(reading.metrics.errors).toEqual({ 'server-closed': 1 });
    release();
    const { bytes } = await answered;
    await doneAnswering;
    expect([...unframe(bytes)]).toEqual([42]);
  });
});
