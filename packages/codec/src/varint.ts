// bincode 2 variable-length integers (config::standard, little endian):
// values up to 250 are one byte; larger ones are a marker byte (251 = u16,
// 252 = u32, 253 = u64, 254 = u128) followed by the value. Signed integers are
// zigzag-mapped first. Source: bincode-2.0.1/src/varint/*.rs.

export const SINGLE_BYTE_MAX = 250;
export const U16_MARKER = 251;
export const U32_MARKER = 252;
export const U64_MARKER = 253;
export const U128_MARKER = 254;

export const U64_MAX = (1n << 64n) - 1n;
export const U128_MAX = (1n << 128n) - 1n;
export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;
export const I128_MIN = -(1n << 127n);
export const I128_MAX = (1n << 127n) - 1n;

/** Bytes the shortest varint of `n` (a non-negative integer below 2^53) takes. */
export function varintSize(n: number): number {
  return n <= SINGLE_BYTE_MAX ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

// Zigzag with arithmetic, not 32-bit bit operations: `n << 1` overflows for
// |n| >= 2^30, and every i32 fits a double exactly after doubling.

/** Zigzag of a signed integer |n| < 2^52: n >= 0 → 2n, n < 0 → -2n-1. */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Inverse of zigzag for z < 2^53. */
export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export function zigzagBig(n: bigint): bigint {
  return n >= 0n ? n << 1n : (-n << 1n) - 1n;
}

export function unzigzagBig(z: bigint): bigint {
  return (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n);
}
