// An application event sent to the master (Rust `Event<T>`): its bincode
// encoding is the Event request's `evt_data`.

import { decode, encode } from '@syncstate-ts/codec';
import type { DecodeOptions, Schema } from '@syncstate-ts/codec';

export class Event<E> {
  constructor(
    readonly schema: Schema<E>,
    readonly content: E,
  ) {}

  /** bincode of the content (throws the codec's EncodeError if it does not fit the schema). */
  serialize(): Uint8Array {
    return encode(this.schema, this.content);
  }

  /** Decodes content (throws the codec's DecodeError; trailing bytes ignored like Rust unless strict). */
  static deserialize<E>(schema: Schema<E>, bytes: Uint8Array, options?: DecodeOptions): Event<E> {
    return new Event(schema, decode(schema, bytes, options));
  }
}
