/**
 * One framed request/response exchange over any Duplex (docs/protocol.md, "Framing and TLS"):
 * write `u32 BE length + payload`, read exactly one response frame, close.
 * Taking a Duplex rather than a TLS socket lets tests drive it in memory.
 *
 * Reads are bounded: FrameReader rejects a length prefix above maxFrameSize
 * before buffering the body, so a hostile or broken server cannot make us
 * allocate what it announces.
 */
import type { Duplex } from 'node:stream';
import { encodeFrame, FrameReader } from '@syncstate-ts/codec';
import { ConnectionClosedError, ConnectionError, ProtocolError, TimeoutError } from './errors.js';
import { abortReason, startTimer } from './timers.js';

export interface ExchangeOptions {
  maxFrameSize: number;
  /** Limit for the whole exchange, from the write to the last response byte. */
  responseTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Sends `payload` as one frame and resolves with the first response frame's payload; always destroys `stream`. */
export function exchangeFrame(stream: Duplex, payload: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
  const { signal } = options;
  if (signal?.aborted) {
    stream.destroy();
    return Promise.reject(abortReason(signal));
  }

  return new Promise((resolve, reject) => {
    const reader = new FrameReader({ maxFrameSize: options.maxFrameSize });
    const progress = new Progress();
    const timer = startTimer(options.responseTimeoutMs, () =>
      fail(new TimeoutError('response', options.responseTimeoutMs)),
    );

    const onData = (data: Uint8Array): void => {
      // Node hands out Buffers, whose slice() is a view, not a copy: give the
      // reader a plain Uint8Array so the frame it returns owns its bytes.
      const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      progress.add(chunk);
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        fail(
          new ProtocolError(
            `the server announced a ${progress.expected ?? '?'}-byte response, above maxFrameSize ${options.maxFrameSize}`,
            { cause: err },
          ),
        );
        return;
      }
      const first = frames[0];
      if (first !== undefined) {
        cleanup();
        stream.destroy();
        resolve(first);
      }
    };
    const onEnd = (): void => fail(progress.closedError());
    const onError = (err: Error & { code?: string }): void => {
      // A reset after our request is the server hanging up, not a failed connection.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') fail(progress.closedError(err));
      else fail(new ConnectionError(`connection failed during the request: ${err.message}`, { cause: err }));
    };
    const onAbort = (): void => fail(abortReason(signal));

    function cleanup(): void {
      timer.clear();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      // Settled: a late socket error must not become an unhandled 'error' event.
      stream.on('error', ignore);
      signal?.removeEventListener('abort', onAbort);
    }
    function fail(err: unknown): void {
      cleanup();
      stream.destroy();
      reject(err);
    }

    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.write(encodeFrame(payload));
  });
}

function ignore(): void {}

/** Counts response bytes so a hang-up can say how much of the answer arrived. */
class Progress {
  received = 0;
  expected: number | undefined;
  private readonly header = new Uint8Array(4);

  add(chunk: Uint8Array): void {
    if (this.received < 4) {
      const take = Math.min(4 - this.received, chunk.length);
      this.header.set(chunk.subarray(0, take), this.received);
      if (this.received + take === 4) {
        this.expected = new DataView(this.header.buffer).getUint32(0, false);
      }
    }
    this.received += chunk.length;
  }

  closedError(cause?: Error): ConnectionClosedError {
    const details = { bytesReceived: this.received, ...(this.expected !== undefined ? { expectedBytes: this.expected + 4 } : {}) };
    const options = cause !== undefined ? { cause } : undefined;
    if (this.received === 0) {
      return new ConnectionClosedError(
        'the server closed the connection without answering (the Rust server does this when it cannot decode the request or its payload)',
        details,
        options,
      );
    }
    if (this.expected === undefined) {
      return new ConnectionClosedError(
        `the server closed the connection after ${this.received} byte(s) of the 4-byte response length`,
        details,
        options,
      );
    }
    return new ConnectionClosedError(
      `the server closed the connection after ${this.received - 4} of the ${this.expected} response bytes it announced` +
        TRUNCATION_HINT,
      details,
      options,
    );
  }
}

/** Explains the one known cause of a cut answer (measured in test/rust-large.test.ts). */
const TRUNCATION_HINT =
  ' (a Rust syncstate 0.3.0 server sends each response with a single write() and then drops the connection, ' +
  'so it delivers only the first 65,536 bytes of a larger response)';
