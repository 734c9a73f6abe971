// The framed exchange on an in-memory Duplex: how the client reads answers
// that arrive in pieces, too big, cut short, late, or never.
import { Duplex } from 'node:stream';
import { DecodeError, encodeFrame } from '@syncstate-ts/codec';
import { ConnectionClosedError, ConnectionError, exchangeFrame, ProtocolError, TimeoutError } from '@syncstate-ts/remote';
import { describe, expect, it } from 'vitest';

/** A Duplex that records what the client writes and lets the test push the server's bytes. */
function fakePeer(): { stream: Duplex; written: () => Uint8Array } {
  const chunks: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, written: () => new Uint8Array(Buffer.concat(chunks)) };
}

const options = { maxFrameSize: 1024, responseTimeoutMs: 5_000 };
const request = new Uint8Array([1, 2, 3]);

describe('exchangeFrame', () => {
  it('writes one frame and assembles an answer that arrives one byte at a time', async () => {
    const { stream, written } = fakePeer();
    const answer = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
    const pending = exchangeFrame(stream, request, options);
    expect(written()).toEqual(new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
    const frame = encodeFrame(answer);
    for (let i = 0; i < frame.length; i++) stream.push(Buffer.from(frame.subarray(i, i + 1)));
    await expect(pending).resolves.toEqual(answer);
    expect(stream.destroyed).toBe(true);
  });

  it('reads an answer inside a chunk with a nonzero byteOffset (pooled Buffer)', async () => {
    const { stream } = fakePeer();
    const pending = exchangeFrame(stream, request, options);
    const pool = Buffer.alloc(64, 0xee);
    const frame = encodeFrame(new Uint8Array([9, 8, 7]));
    pool.set(frame, 20);
    stream.push(pool.subarray(20, 20 + frame.length));
    await expect(pending).resolves.toEqual(new Uint8Array([9, 8, 7]));
  });

  it('refuses a length prefix above maxFrameSize as soon as the 4 bytes arrive', async () => {
    const { stream } = fakePeer();
    const pending = exchangeFrame(stream, request, options);
    stream.push(Buffer.from([0, 0, 4, 1])); // 1025 > 1024, and no body follows
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('protocol-error');
    expect((err as Error).message).toContain('1025-byte response, above maxFrameSize 1024');
    expect((err as Error).cause).toBeInstanceOf(DecodeError);
    expect(((err as Error).cause as DecodeError).code).toBe('frame-too-large');
    expect(stream.destroyed).toBe(true);
  });

  it('accepts an answer of exactly maxFrameSize bytes', async () => {
    const { stream } = fakePeer();
    const pending = exchangeFrame(stream, request, options);
    stream.push(Buffer.from(encodeFrame(new Uint8Array(1024).fill(5))));
    expect((await pending).length).toBe(1024);
  });

  it('reports a hang-up without any answer', async () => {
    const { stream } = fakePeer();
    const pending = exchangeFrame(stream, request, options);
    stream.push(null);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(err).toMatchObject({ code: 'connection-closed', bytesReceived: 0, expectedBytes: undefined });
    expect((err as Error).message).toContain('without answering');
  });

  it('reports a hang-up inside the length prefix', async () => {
    const { stream } = fakePeer();
    const pending = exchangeFrame(stream, request, options);
    stream.push(Buffer.from([0, 0]));
    stream.push(null);
    await expect(pending).rejects.toMatchObject({ name: 'ConnectionClosedError', bytesReceived: 2, expectedBytes: undefined });
  });

  it('reports a cut answer with how much of it arrived', async () => {
    const { stream } = fakePeer();
    const pending = exchangeFrame(stream, request, options);
    stream.push(Buffer.from(encodeFrame(new Uint8Array(100)).subarray(0, 54)));
    stream.push(null);
    const err = (await pending.catch((e: unknown) => e)) as ConnectionClosedError;
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(err.bytesReceived).toBe(54);
    expect(err.expectedBytes).toBe(104);
    expect(err.message).toContain('after 50 of the 100 response bytes it announced');
    expect(err.message).toContain('single write()');
  });

  it('treats a reset as the server hanging up, other socket errors as connection failures', async () => {
    const a = fakePeer();
    const reset = exchangeFrame(a.stream, request, options);
    a.stream.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const resetErr = (await reset.catch((e: unknown) => e)) as ConnectionClosedError;
    expect(resetErr).toBeInstanceOf(ConnectionClosedError);
    expect((resetErr.cause as Error).message).toBe('read ECONNRESET');

    const b = fakePeer();
    const other = exchangeFrame(b.stream, request, options);
    b.stream.destroy(Object.assign(new Error('boom'), { code: 'EPROTO' }));
    const otherErr = (await other.catch((e: unknown) => e)) as ConnectionError;
    expect(otherErr).toBeInstanceOf(ConnectionError);
    expect(otherErr.code).toBe('connection-failed');
  });

  it('times out a server that never answers', async () => {
    const { stream } = fakePeer();
    const err = await exchangeFrame(stream, request, { ...options, responseTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'timeout', phase: 'response', timeoutMs: 50 });
    expect(stream.destroyed).toBe(true);
  });

  it('rejects with the abort reason and destroys the stream', async () => {
    const { stream } = fakePeer();
    const controller = new AbortController();
    const pending = exchangeFrame(stream, request, { ...options, signal: controller.signal });
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(stream.destroyed).toBe(true);

    const already = fakePeer();
    await expect(exchangeFrame(already.stream, request, { ...options, signal: controller.signal })).rejects.toBe(reason);
    expect(already.written().length).toBe(0);
  });
});
