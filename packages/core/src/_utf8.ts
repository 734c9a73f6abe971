// UTF-8 helpers for hashing string keys and values without a temporary
// Uint8Array per string. (@syncstate/codec has its own copies for the wire;
// they are not part of its public API.)

interface TextEncoderLike {
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare const TextEncoder: new () => TextEncoderLike;
const encoder = new TextEncoder();

/** True if `s` has no lone surrogate (it is a sequence of Unicode scalar values). */
export const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Below this many UTF-16 units a JS loop beats a TextEncoder call. */
const SHORT = 64;

/**
 * Writes well-formed `s` as UTF-8 at `pos`; `buf` has room for 3 bytes per
 * UTF-16 unit from `pos`. Returns the end position.
 */
export function writeUtf8(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  if (n > SHORT) return pos + encoder.encodeInto(s, buf.subarray(pos)).written;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdbff) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      // High surrogate; the caller checked a low one follows.
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}
