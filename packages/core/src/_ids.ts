// Update ids are Rust u64s, carried as bigint.

import { InvalidValueError } from './errors.js';

export const U64_MAX = (1n << 64n) - 1n;

/** Returns `v` if it is a bigint in [0, 2^64 - 1]; else throws InvalidValueError. */
export function checkUpdateId(v: unknown, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new InvalidValueError(`${what} must be a bigint in [0, 2^64 - 1], got ${describe(v)}`);
  }
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : String(v);
}
