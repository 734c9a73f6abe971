/**
 * Two connected in-memory Duplex ends (Node 20 has no stream.duplexPair).
 * Backpressure is real: a write completes only once the other end's reader
 * has room, so a peer that never reads stalls the writer like a full socket.
 */
import { Duplex } from 'node:stream';

export interface PairOptions {
  /** Readable buffer of each end (bytes); small values make backpressure show early. */
  highWaterMark?: number;
}

export function duplexPair(options: PairOptions = {}): [Duplex, Duplex] {
  const hwm = options.highWaterMark ?? 16 * 1024;
  let pendingA: (() => void) | undefined;
  let pendingB: (() => void) | undefined;
  // eslint-disable-next-line prefer-const
  let b: Duplex;
  const a: Duplex = new Duplex({
    readableHighWaterMark: hwm,
    writableHighWaterMark: hwm,
    read() {
      const cb = pendingB;
      pendingB = undefined;
      cb?.();
    },
    write(chunk: Buffer, _enc, cb) {
      if (b.destroyed) return cb();
      if (b.push(chunk)) cb();
      else pendingA = cb;
    },
    final(cb) {
      if (!b.destroyed) b.push(null);
      cb();
    },
    destroy(err, cb) {
      if (!b.destroyed) b.destroy();
      pendingA?.();
      cb(err);
    },
  });
  b = new Duplex({
    readableHighWaterMark: hwm,
    writableHighWaterMark: hwm,
    read() {
      const cb = pendingA;
      pendingA = undefined;
      cb?.();
    },
    write(chunk: Buffer, _enc, cb) {
      if (a.destroyed) return cb();
      if (a.push(chunk)) cb();
      else pendingB = cb;
    },
    final(cb) {
      if (!a.destroyed) a.push(null);
      cb();
    },
    destroy(err, cb) {
      if (!a.destroyed) a.destroy();
      pendingB?.();
      cb(err);
    },
  });
  return [a, b];
}

/** Frames `payload` as on the wire: u32 BE length, then the bytes. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

/**
 * Everything the other end receives until it closes, and whether it ended
 * cleanly (rather than being destroyed); hangs up once the server ended, like a client.
 */
export function collect(stream: Duplex): Promise<{ bytes: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      ended = true;
      stream.end();
    });
    stream.on('error', () => {});
    stream.on('close', () => resolve({ bytes: Buffer.concat(chunks), ended }));
  });
}

/** The payload of a single response frame; throws if `bytes` is not exactly one frame. */
export function unframe(bytes: Buffer): Buffer {
  if (bytes.length < 4) throw new Error(`expected a frame, got ${bytes.length} bytes`);
  const length = bytes.readUInt32BE(0);
  if (bytes.length !== 4 + length) throw new Error(`frame claims ${length} bytes, ${bytes.length - 4} arrived`);
  return bytes.subarray(4);
}
