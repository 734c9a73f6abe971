// UTF-8 helpers for bincode strings and chars (RFC 3629). Encoding must refuse
// lone surrogates (TextEncoder would silently write U+FFFD); decoding is fatal
// and keeps a leading BOM, as Rust's `String::from_utf8` does.

// The build runs with `types: []` (no DOM, no Node), so declare the two
// platform globals we use; every supported runtime has them.
interface TextDecoderLike {
  decode(input: Uint8Array): string;
}
interface TextEncoderLike {
  encode(source: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare const TextDecoder: new (label: string, options: { fatal: boolean; ignoreBOM: boolean }) => TextDecoderLike;
declare const TextEncoder: new () => TextEncoderLike;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Below this many bytes a JS loop beats a TextDecoder call for ASCII text. */
const SHORT_DECODE = 32;

/**
 * Decodes `bytes[start, end)` as UTF-8, or returns undefined if they are not
 * valid UTF-8 (overlong forms, surrogates, > U+10FFFF, truncated sequences).
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start <= SHORT_DECODE) {
    let s = '';
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) break;
      s += String.fromCharCode(b);
    }
    if (i === end) return s;
  }
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}

/** True if `s` has no lone surrogate, i.e. it is a sequence of Unicode scalar values. */
export const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/**
 * Writes `s` as UTF-8 into `buf` at `pos` with a JS loop (fast for short
 * strings). `buf` must have room for 3 bytes per UTF-16 unit. Returns the end
 * position, or -1 if `s` holds a lone surrogate.
 */
export function writeUtf8Short(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      // A surrogate: must be a high one followed by a low one.
      const lo = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || lo < 0xdc00 || lo > 0xdfff) return -1;
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/**
 * Writes well-formed `s` as UTF-8 into `buf` at `pos` (room for 3 bytes per
 * UTF-16 unit), picking the JS loop or TextEncoder by length. Returns the end
 * position. Public for other packages that write strings into their own
 * buffers (the map hash in @syncstate-ts/core).
 */
export function writeUtf8(buf: Uint8Array, pos: number, s: string): number {
  return s.length <= LOOP_MAX ? writeUtf8Short(buf, pos, s) : pos + encodeUtf8Into(s, buf.subarray(pos));
}

/** Up to this many UTF-16 units a JS loop beats a TextEncoder call (measured on map hashing). */
const LOOP_MAX = 64;

/** UTF-8 bytes of `s` for text meant for people: a lone surrogate becomes U+FFFD (TextEncoder's way). */
export function encodeUtf8Lossy(s: string): Uint8Array {
  return encoder.encode(s);
}

/** TextEncoder.encodeInto; the caller has checked `s` is well formed. Returns bytes written. */
export function encodeUtf8Into(s: string, dest: Uint8Array): number {
  return encoder.encodeInto(s, dest).written;
}

/** Outcome of reading one bincode `char`: a code point, or why not. */
export type CharResult = { ok: true; codePoint: number; width: number } | { ok: false; code: 'truncated' | 'invalid-char' };

// Width of a UTF-8 sequence by its first byte (core::str::utf8_char_width, as
// bincode 2.0.1 de/impls.rs uses it): 0 means no sequence starts with it.
function charWidth(b: number): number {
  if (b < 0x80) return 1;
  if (b < 0xc2) return 0;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  if (b < 0xf5) return 4;
  return 0;
}

/**
 * Reads one char the way bincode 2.0.1 does: first byte → width (invalid
 * first byte is an error before any length check), then the rest must be
 * present, then the whole sequence must be valid UTF-8 (no overlong form, no
 * surrogate, nothing above U+10FFFF).
 */
export function readChar(bytes: Uint8Array, pos: number, end: number): CharResult {
  if (pos >= end) return { ok: false, code: 'truncated' };
  const b0 = bytes[pos]!;
  const width = charWidth(b0);
  if (width === 0) return { ok: false, code: 'invalid-char' };
  if (width === 1) return { ok: true, codePoint: b0, width: 1 };
  if (pos + width > end) return { ok: false, code: 'truncated' };
  const b1 = bytes[pos + 1]!;
  // Allowed range of the second byte (RFC 3629 table): excludes overlong
  // forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 === 0xe0) lo = 0xa0;
  else if (b0 === 0xed) hi = 0x9f;
  else if (b0 === 0xf0) lo = 0x90;
  else if (b0 === 0xf4) hi = 0x8f;
  if (b1 < lo || b1 > hi) return { ok: false, code: 'invalid-char' };
  if (width === 2) return { ok: true, codePoint: ((b0 & 0x1f) << 6) | (b1 & 0x3f), width };
  const b2 = bytes[pos + 2]!;
  if ((b2 & 0xc0) !== 0x80) return { ok: false, code: 'invalid-char' };
  if (width === 3) return { ok: true, codePoint: ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f), width };
  const b3 = bytes[pos + 3]!;
  if ((b3 & 0xc0) !== 0x80) return { ok: false, code: 'invalid-char' };
  return {
    ok: true,
    codePoint: ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f),
    width,
  };
}
