/**
 * One connection, one request (docs/protocol.md, "Framing and TLS"), over any
 * plaintext Duplex (node:tls gives one per connection): read a
 * `u32 BE length + payload` frame, hand the payload to a responder, write its
 * answer as a frame, close. All the defences against hostile peers live here:
 *
 * - the length prefix is checked against maxFrameSize before any of the body
 *   is buffered, and the body is buffered only as it arrives, against a byte
 *   budget shared by all connections (a header alone costs nothing);
 * - a request must arrive within requestTimeoutMs, with no silence longer
 *   than idleTimeoutMs (slow trickles and silent peers are cut off);
 * - the answer is written in chunks honouring `write()` returning false; a
 *   peer that stops reading for drainTimeoutMs is destroyed.
 *
 * Bytes after the first frame are ignored, as the Rust server never reads them.
 */
import type { Duplex } from 'node:stream';
import { encodeFrame, FRAME_HEADER_SIZE } from '@syncstate-ts/codec';
import { FrameTooLargeError, ServerError, ServerTimeoutError } from '../errors.js';
import type { ByteBudget } from '../limits/budget.js';
import type { Logger } from '../logger.js';
import { startTimer, type Timer } from '../limits/timer.js';
import type { Metrics } from '../metrics.js';
import type { ConnectionInfo } from './transport.js';

export interface ConnectionOptions extends ConnectionInfo {
  maxFrameSize: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  budget: ByteBudget;
  metrics: Metrics;
  logger: Logger;
}

/** Returns the answer's payload, or null to close without answering (as Rust does for undecodable input). */
export type Responder = (payload: Uint8Array) => Promise<Uint8Array | null>;

/**
 * `respond(payload)`, never rejecting: a failing responder is counted as
 * 'internal', logged, and answered with null (close without answering).
 * Every transport goes through here.
 */
export async function respondOrClose(
  respond: Responder,
  payload: Uint8Array,
  context: { metrics: Metrics; logger: Logger; peer?: string | undefined },
): Promise<Uint8Array | null> {
  try {
    return await respond(payload);
  } catch (err) {
    context.metrics.error('internal');
    context.logger.error({ err, peer: context.peer }, 'request handler failed; closing without an answer');
    return null;
  }
}

/** Chunk size of response writes: large answers go out piecewise so backpressure is honoured. */
const WRITE_CHUNK = 64 * 1024;

/** Serves one request on `stream`; resolves once the stream is closed, never rejects. */
export function serveConnection(stream: Duplex, respond: Responder, options: ConnectionOptions): Promise<void> {
  const { metrics, logger, budget } = options;
  return new Promise((resolve) => {
    let phase: 'reading' | 'answering' | 'closing' | 'closed' = 'reading';
    const header = new Uint8Array(4);
    let headerLength = 0;
    let frameLength = -1;
    const chunks: Uint8Array[] = [];
    let received = 0;
    let reserved = 0;
    let drainWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;

    const requestTimer: Timer = startTimer(options.requestTimeoutMs, () =>
      fail(new ServerTimeoutError('request', options.requestTimeoutMs, `request not complete after ${options.requestTimeoutMs} ms`)),
    );
    const idleTimer: Timer = startTimer(options.idleTimeoutMs, () =>
      fail(new ServerTimeoutError('idle', options.idleTimeoutMs, `no request bytes for ${options.idleTimeoutMs} ms`)),
    );
    let lingerTimer: Timer | undefined;

    const releaseBudget = (): void => {
      budget.release(reserved);
      reserved = 0;
    };

    /** Records a failure and cuts the connection off at once. */
    function fail(err: ServerError): void {
      if (phase === 'closed' || phase === 'closing') return;
      phase = 'closing';
      metrics.error(err.code);
      logger.debug({ err, peer: options.peer, code: err.code }, 'connection cut off');
      stream.destroy();
    }

    function onData(chunk: Uint8Array): void {
      if (phase !== 'reading') return;
      metrics.bytesIn += chunk.length;
      idleTimer.refresh();
      let offset = 0;
      while (headerLength < 4 && offset < chunk.length) header[headerLength++] = chunk[offset++]!;
      if (headerLength < 4) return;
      if (frameLength < 0) {
        frameLength = ((header[0]! << 24) >>> 0) + (header[1]! << 16) + (header[2]! << 8) + header[3]!;
        if (frameLength > options.maxFrameSize) {
          fail(new FrameTooLargeError(frameLength, options.maxFrameSize));
          return;
        }
      }
      const take = Math.min(chunk.length - offset, frameLength - received);
      if (take > 0) {
        if (!budget.reserve(take)) {
          fail(new ServerError('memory-budget', `request buffers would exceed maxBufferedRequestBytes ${budget.limit}`));
          return;
        }
        reserved += take;
        // Copy (Buffer#slice would be a view): the producer of `chunk` may reuse its memory.
        chunks.push(Uint8Array.prototype.slice.call(chunk, offset, offset + take));
        received += take;
      }
      if (received === frameLength) void answer(concat(chunks, received));
    }

    async function answer(payload: Uint8Array): Promise<void> {
      phase = 'answering';
      requestTimer.clear();
      idleTimer.clear();
      stream.off('data', onData);
      stream.pause();
      let response: Uint8Array | null;
      try {
        response = await respondOrClose(respond, payload, options);
      } finally {
        chunks.length = 0;
        releaseBudget();
      }
      if (phase !== 'answering') return; // the peer went away meanwhile
      try {
        if (response !== null) await writeFrame(response);
      } catch (err) {
        if (err instanceof ServerError) fail(err);
        else stream.destroy();
        return;
      }
      closeGracefully();
    }

    async function writeFrame(payload: Uint8Array): Promise<void> {
      // A small answer goes out whole in one write: one TLS record, one segment.
      if (payload.length <= WRITE_CHUNK) return writeChunk(encodeFrame(payload));
      // A large one is not copied: its length, then its pieces.
      const head = new Uint8Array(FRAME_HEADER_SIZE);
      new DataView(head.buffer).setUint32(0, payload.length, false);
      await writeChunk(head);
      for (let offset = 0; offset < payload.length; offset += WRITE_CHUNK) {
        await writeChunk(payload.subarray(offset, offset + WRITE_CHUNK));
      }
    }

    async function writeChunk(chunk: Uint8Array): Promise<void> {
      if (phase !== 'answering') throw new ServerError('connection-closed', 'peer closed before the answer was written');
      metrics.bytesOut += chunk.length;
      if (stream.write(chunk)) return;
      await new Promise<void>((resolve, reject) => {
        const timer = startTimer(options.drainTimeoutMs, () =>
          reject(new ServerTimeoutError('drain', options.drainTimeoutMs, `peer accepted no answer bytes for ${options.drainTimeoutMs} ms`)),
        );
        drainWaiter = {
          resolve: () => {
            timer.clear();
            resolve();
          },
          reject: (err) => {
            timer.clear();
            reject(err);
          },
        };
      }).finally(() => {
        drainWaiter = undefined;
      });
    }

    /** Ends our side and waits (bounded) for the peer to close, discarding anything it still sends. */
    function closeGracefully(): void {
      phase = 'closing';
      lingerTimer = startTimer(options.drainTimeoutMs, () => stream.destroy());
      stream.on('data', () => {});
      stream.resume();
      stream.end();
    }

    function onEnd(): void {
      // The peer finished sending; before a complete request that is an abandoned connection.
      if (phase === 'reading') {
        metrics.error('connection-closed');
        logger.debug({ peer: options.peer, received: received + headerLength }, 'peer closed before a complete request');
        phase = 'closing';
        lingerTimer = startTimer(options.drainTimeoutMs, () => stream.destroy());
        stream.end();
      }
    }

    function onError(err: Error): void {
      if (phase === 'closed') return;
      metrics.error('socket-error');
      logger.debug({ err, peer: options.peer }, 'connection error');
      stream.destroy();
    }

    function onClose(): void {
      phase = 'closed';
      requestTimer.clear();
      idleTimer.clear();
      lingerTimer?.clear();
      options.signal?.removeEventListener('abort', onAbort);
      drainWaiter?.reject(new ServerError('connection-closed', 'peer closed while the answer was being written'));
      if (chunks.length > 0) {
        chunks.length = 0;
        releaseBudget();
      }
      resolve();
    }

    function onAbort(): void {
      if (phase === 'reading') fail(new ServerError('server-closed', 'server closing: request not complete'));
    }

    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.on('drain', () => drainWaiter?.resolve());
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
