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
  const a: End = new End(hwm, () => b);
  const b: End = new End(hwm, () => a);
  return [a.duplex, b.duplex];
}

/** One end of a pair: what it writes, its peer reads. */
class End {
  /** A write of this end waiting for the peer's reader to have room. */
  stalled: (() => void) | undefined;
  readonly duplex: Duplex;

  constructor(hwm: number, peer: () => End) {
    this.duplex = new Duplex({
      readableHighWaterMark: hwm,
      writableHighWaterMark: hwm,
      read: () => {
        const other = peer();
        const cb = other.stalled;
        other.stalled = undefined;
        cb?.();
      },
      write: (chunk: Buffer, _enc, cb) => {
        const other = peer().duplex;
        if (other.destroyed) return cb();
        if (other.push(chunk)) cb();
        else this.stalled = cb;
      },
      final: (cb) => {
        const other = peer().duplex;
        if (!other.destroyed) other.push(null);
        cb();
      },
      destroy: (err, cb) => {
        const other = peer().duplex;
        if (!other.destroyed) other.destroy();
        this.stalled?.();
        cb(err);
      },
    });
  }
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
