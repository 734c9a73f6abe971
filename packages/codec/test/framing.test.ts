// FrameReader: every split point, chunks at nonzero byteOffsets, chunk
// buffers reused under the reader's feet, and the length limit enforced
// before the payload is buffered.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_SIZE, DecodeError, FrameReader, encodeFrame } from '@syncstate-ts/codec';
import { atOffset, expectDecodeError, hex, toHex } from './helpers.js';

const payloads = [hex('0102030405'), new Uint8Array(0), hex('aa'), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)];
const stream = concat(payloads.map(encodeFrame));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

/** Feeds `chunks` through one reusable scratch buffer, scribbling over it after each push. */
function feedReusing(reader: FrameReader, chunks: Uint8Array[]): Uint8Array[] {
  const scratch = new Uint8Array(stream.length + 16);
  const frames: Uint8Array[] = [];
  for (const c of chunks) {
    const view = scratch.subarray(3, 3 + c.length);
    view.set(c);
    frames.push(...reader.push(view));
    scratch.fill(0xcd);
  }
  return frames;
}

describe('encodeFrame', () => {
  it('prefixes a u32 big-endian length', () => {
    expect(toHex(encodeFrame(hex('0102')))).toBe('000000020102');
    expect(toHex(encodeFrame(new Uint8Array(0)))).toBe('00000000');
    expect(toHex(encodeFrame(new Uint8Array(0x01020304)).subarray(0, 4))).toBe('01020304');
  });
});

describe('FrameReader', () => {
  it('yields the same frames for every pair of cut points', () => {
    const want = payloads.map(toHex);
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b += 7) {
        const reader = new FrameReader();
        const parts = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        const got = feedReusing(reader, parts);
        expect(got.map(toHex), `cuts ${a},${b}`).toEqual(want);
        expect(reader.buffered).toBe(0);
        reader.end();
      }
    }
  });

  it('yields the same frames one byte at a time and from offset views', () => {
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...reader.push(atOffset(stream.subarray(i, i + 1))));
    expect(got.map(toHex)).toEqual(payloads.map(toHex));
    expect(new FrameReader().push(atOffset(stream, 13)).map(toHex)).toEqual(payloads.map(toHex));
  });

  it('returns frames that do not alias the pushed chunk', () => {
    const chunk = encodeFrame(hex('010203'));
    const [frame] = new FrameReader().push(chunk);
    chunk.fill(0);
    expect(toHex(frame!)).toBe('010203');
  });

  it('copies out of Node Buffers too (whose slice() is a view)', () => {
    const chunk = Buffer.from(encodeFrame(hex('010203')));
    const [frame] = new FrameReader().push(chunk);
    chunk.fill(0);
    expect(toHex(frame!)).toBe('010203');
    expect(frame!.constructor).toBe(Uint8Array);
  });

  it('refuses an oversized length as soon as its 4th byte arrives, even split byte by byte', () => {
    const reader = new FrameReader({ maxFrameSize: 1000 });
    expect(reader.push(encodeFrame(hex('aa')))).toHaveLength(1);
    const header = hex('000003e9'); // 1001
    for (let i = 0; i < 3; i++) expect(reader.push(header.subarray(i, i + 1))).toEqual([]);
    expect(reader.buffered).toBe(3);
    const err = expectDecodeError(() => reader.push(header.subarray(3, 4)), 'frame-too-large', 5);
    expect(err.message).toContain('1001');
    // It stays failed.
    expect(() => reader.push(hex('00'))).toThrow(DecodeError);
    expect(() => reader.end()).toThrow(DecodeError);
  });

  it('accepts exactly the maximum, and a 4 GiB claim with the default limit fails at once', () => {
    const reader = new FrameReader({ maxFrameSize: 3 });
    expect(reader.push(encodeFrame(hex('010203'))).map(toHex)).toEqual(['010203']);
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(16 * 1024 * 1024);
    expectDecodeError(() => new FrameReader().push(hex('ffffffff')), 'frame-too-large', 0);
  });

  it('buffers a large frame with what arrives, not with what is claimed', () => {
    const reader = new FrameReader();
    const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
    const framed = encodeFrame(big);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < framed.length; i += 4096) frames.push(...reader.push(framed.subarray(i, i + 4096)));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.length).toBe(big.length);
    expect(frames[0]!.buffer.byteLength).toBe(big.length);
    expect(toHex(frames[0]!.subarray(199_990))).toBe(toHex(big.subarray(199_990)));
  });

  it('end() reports a stream cut inside a frame or a header', () => {
    const r1 = new FrameReader();
    r1.push(hex('000000'));
    expectDecodeError(() => r1.end(), 'truncated', 0);
    const r2 = new FrameReader();
    r2.push(hex('00000003 0102'));
    expect(r2.buffered).toBe(6);
    expectDecodeError(() => r2.end(), 'truncated', 0);
  });

  it('validates its options and inputs', () => {
    expect(() => new FrameReader({ maxFrameSize: -1 })).toThrow(RangeError);
    expect(() => new FrameReader({ maxFrameSize: 2 ** 32 })).toThrow(RangeError);
    expect(() => new FrameReader().push('abc' as never)).toThrow(TypeError);
  });
});
