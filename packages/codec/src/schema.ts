// The Schema interface: one value type T, its bincode writer and reader.
// Schemas compose (see combinators.ts, enum.ts); `Infer<S>` recovers T.

import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface Schema<T> {
  /** Writes `v`; throws EncodeError if `v` does not fit. */
  write(w: Writer, v: T): void;
  /** Reads one value; throws DecodeError on bad input. */
  read(r: Reader): T;
  /**
   * Fewest bytes a value takes. Bounds sequence counts before allocating;
   * 0 marks a zero-sized type (unit...). Absent means 1.
   */
  readonly minSize?: number;
  /**
   * True when `null` is one of T's values (unit, Option...), so an enclosing
   * option must wrap Some as `{ some: v }` to keep Some(None) apart from None.
   * Custom schemas whose T includes null must set it.
   */
  readonly nullable?: boolean;
  /** What the schema is, for enums deciding a variant's shape. */
  readonly kind?: string;
}

/** The value type of a schema. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** `t.unit`: marks unit variants inside `t.enumOf`. */
export interface UnitSchema extends Schema<null> {
  readonly kind: 'unit';
}

export type StructFields = Record<string, Schema<any>>;

/** `t.struct(fields)`: as an enum variant, its fields are flattened next to `type`. */
export interface StructSchema<F extends StructFields> extends Schema<InferFields<F>> {
  readonly kind: 'struct';
  readonly fields: F;
}

export type InferFields<F extends StructFields> = { -readonly [K in keyof F]: Infer<F[K]> };

/** Flattens an intersection into one object type for readable hovers. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Minimum size of a schema (absent → 1: assume it takes bytes). */
export function minSizeOf(s: Schema<unknown>): number {
  return s.minSize ?? 1;
}
