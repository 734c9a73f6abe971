// One-call encode/decode of a value with a schema. Decoding a slice stops
// after one value and, like Rust's `decode_from_slice`, ignores trailing
// bytes unless `strict` is set.

import { Reader } from './reader.js';
import type { ReaderOptions } from './reader.js';
import type { Schema } from './schema.js';
import { Writer } from './writer.js';

export interface DecodeOptions extends ReaderOptions {
  /** Reject bytes left over after the value ('trailing-bytes'). Default false, as in Rust. */
  readonly strict?: boolean;
}

/** Buffers up to this size are kept between encode() calls; larger ones are dropped after use. */
const KEEP_SCRATCH = 4 << 20;
let scratch: Writer | undefined;
let scratchBusy = false;

/** Encodes `value`; throws EncodeError if it does not fit `schema`. Returns a fresh Uint8Array. */
export function encode<T>(schema: Schema<T>, value: T): Uint8Array {
  // A custom schema may call encode() from inside write(): give it its own writer.
  if (scratchBusy) {
    const w = new Writer();
    schema.write(w, value);
    return w.finish();
  }
  const w = (scratch ??= new Writer(4096));
  scratchBusy = true;
  try {
    w.reset();
    schema.write(w, value);
    return w.finish();
  } finally {
    scratchBusy = false;
    if (w.capacity > KEEP_SCRATCH) scratch = undefined;
  }
}

/**
 * Decodes one value from the start of `bytes`. Throws DecodeError on bad
 * input. Byte fields are copies unless `aliasBytes` is set.
 */
export function decode<T>(schema: Schema<T>, bytes: Uint8Array, options?: DecodeOptions): T {
  const r = new Reader(bytes, 0, options);
  const v = schema.read(r);
  if (options?.strict === true) r.expectEnd();
  return v;
}
