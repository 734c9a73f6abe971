// syncstate's TCP framing: a u32 big-endian byte length, then the payload
// (syncstate-0.3.0/src/tcp/{remote,server}.rs). The Rust server trusts the
// length and allocates it up front; FrameReader refuses a length above its
// maximum as soon as the 4 header bytes are in, and grows a frame's buffer
// with the bytes that actually arrive rather than with the claim.

import { DecodeError, EncodeError } from './errors.js';

export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
export const FRAME_HEADER_SIZE = 4;
const MAX_U32 = 0xffff_ffff;
/** A frame buffer starts at most this big and doubles as bytes arrive. */
const INITIAL_FRAME_BUFFER = 64 * 1024;

/** `payload` prefixed by its length as a u32 big endian. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new TypeError('encodeFrame needs a Uint8Array');
  const n = payload.length;
  if (n > MAX_U32) throw new EncodeError('frame-too-large', `payload of ${n} bytes does not fit a u32 length prefix`);
  const out = new Uint8Array(FRAME_HEADER_SIZE + n);
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 0xff;
  out[2] = (n >>> 8) & 0xff;
  out[3] = n & 0xff;
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

export interface FrameReaderOptions {
  /** Largest payload accepted, in bytes (default 16 MiB, at most 2^32 - 1). */
  readonly maxFrameSize?: number;
}

/**
 * Incremental frame parser: push() chunks as they arrive (any split, any
 * size) and get back every frame they complete. Frames are fresh copies, so
 * the caller may reuse its chunk buffers at once. After an error the reader
 * stays failed and every push() rethrows it.
 */
export class FrameReader {
  readonly maxFrameSize: number;
  private readonly header = new Uint8Array(FRAME_HEADER_SIZE);
  private headerFill = 0;
  /** Payload length of the frame being read, or -1 while reading a header. */
  private frameLength = -1;
  private frame: Uint8Array = new Uint8Array(0);
  private frameFill = 0;
  /** Stream offset of the first byte of the next chunk. */
  private streamOffset = 0;
  private failure: DecodeError | undefined;

  constructor(options: FrameReaderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > MAX_U32) {
      throw new RangeError(`maxFrameSize must be an integer in 0..${MAX_U32}, got ${max}`);
    }
    this.maxFrameSize = max;
  }

  /** Bytes held of a frame not yet complete (header included). */
  get buffered(): number {
    return this.frameLength < 0 ? this.headerFill : FRAME_HEADER_SIZE + this.frameFill;
  }

  /** Feeds `chunk`; returns the frames it completes, in order (often none). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== undefined) throw this.failure;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('FrameReader.push needs a Uint8Array');
    // Node's Buffer.slice() returns a view: copy through a plain Uint8Array.
    if (chunk.constructor !== Uint8Array) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Uint8Array[] = [];
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.frameLength < 0) {
        const headerStart = this.streamOffset + i - this.headerFill;
        let length: number;
        if (this.headerFill === 0 && n - i >= FRAME_HEADER_SIZE) {
          length = readU32BE(chunk, i);
          i += FRAME_HEADER_SIZE;
        } else {
          while (this.headerFill < FRAME_HEADER_SIZE && i < n) this.header[this.headerFill++] = chunk[i++]!;
          if (this.headerFill < FRAME_HEADER_SIZE) break;
          this.headerFill = 0;
          length = readU32BE(this.header, 0);
        }
        if (length > this.maxFrameSize) {
          this.failure = new DecodeError(
            'frame-too-large',
            headerStart,
            `frame length ${length} exceeds the maximum of ${this.maxFrameSize}`,
          );
          throw this.failure;
        }
        if (n - i >= length) {
          // The whole payload is in this chunk: one copy, no staging buffer.
          frames.push(chunk.slice(i, i + length));
          i += length;
          continue;
        }
        this.frameLength = length;
        this.frame = new Uint8Array(Math.min(length, Math.max(INITIAL_FRAME_BUFFER, n - i)));
        this.frameFill = 0;
      }
      const take = Math.min(n - i, this.frameLength - this.frameFill);
      const need = this.frameFill + take;
      if (need > this.frame.length) {
        const grown = new Uint8Array(Math.min(this.frameLength, Math.max(need, this.frame.length * 2)));
        grown.set(this.frame.subarray(0, this.frameFill));
        this.frame = grown;
      }
      this.frame.set(chunk.subarray(i, i + take), this.frameFill);
      this.frameFill = need;
      i += take;
      if (this.frameFill === this.frameLength) {
        // Capped growth ends exactly at frameLength: the buffer is the frame.
        frames.push(this.frame);
        this.frame = new Uint8Array(0);
        this.frameLength = -1;
        this.frameFill = 0;
      }
    }
    this.streamOffset += n;
    return frames;
  }

  /**
   * Call at end of stream: throws DecodeError('truncated') if it cut a frame
   * (or its header) short.
   */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    const held = this.buffered;
    if (held > 0) {
      throw new DecodeError('truncated', this.streamOffset - held, `stream ended inside a frame (${held} byte(s) buffered)`);
    }
  }
}

function readU32BE(b: Uint8Array, i: number): number {
  return b[i]! * 0x100_0000 + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
}
