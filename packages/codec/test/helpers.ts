// Small shared helpers for the codec tests.
import { toHex } from '@syncstate-ts/codec';
import { expect } from 'vitest';
import { DecodeError } from '@syncstate-ts/codec';
import type { DecodeErrorCode } from '@syncstate-ts/codec';

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export { toHex };

/** Runs `f`, expecting a DecodeError with `code` (and `offset` if given). */
export function expectDecodeError(f: () => unknown, code: DecodeErrorCode, offset?: number): DecodeError {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected DecodeError(${code})`).toBeInstanceOf(DecodeError);
  const err = thrown as DecodeError;
  expect(err.name).toBe('DecodeError');
  expect(err.code).toBe(code);
  if (offset !== undefined) expect(err.offset).toBe(offset);
  return err;
}

/** Copies `bytes` into a larger buffer at a nonzero byteOffset (like Node's pooled Buffers). */
export function atOffset(bytes: Uint8Array, pad = 7): Uint8Array {
  const big = new Uint8Array(bytes.length + 2 * pad).fill(0xee);
  big.set(bytes, pad);
  return big.subarray(pad, pad + bytes.length);
}
