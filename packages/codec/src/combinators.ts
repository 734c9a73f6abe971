// Schemas for serde's compound types: seq (vec), fixed arrays, Option, tuples,
// structs, maps, newtype structs, and `lazy` for recursive types. bincode
// writes struct/tuple fields in order with no names and no prefix; seqs and
// maps get a varint count. Counts are checked against the remaining input
// (via each element's minimum size) before anything is allocated.
//
// Derived properties (minSize, nullable) are computed on first use, never at
// construction, so a `lazy` thunk is not forced while it is being built.

import { EncodeError, describe, rethrowWithin } from './errors.js';
import type { Reader } from './reader.js';
import type { Infer, InferFields, Schema, StructFields, StructSchema } from './schema.js';
import { minSizeOf } from './schema.js';
import { Writer } from './writer.js';

/**
 * Value of `Option<T>`: `null` is None. Some(v) is `v` itself, unless null is
 * one of T's values (T is an Option, unit...): then Some(v) is `{ some: v }`,
 * so Some(None) = `{ some: null }` stays distinct from None = `null`.
 */
export type OptionValue<T> = null extends T ? { some: T } | null : T | null;

export type InferTuple<S extends readonly Schema<any>[]> = { -readonly [I in keyof S]: Infer<S[I]> };

/** `Vec<T>` and any serde sequence: varint count, then the elements. */
export function vec<S extends Schema<any>>(s: S): Schema<Infer<S>[]> & { readonly kind: 'vec' } {
  let elemMin = -1;
  return {
    kind: 'vec',
    minSize: 1,
    nullable: false,
    write(w, v) {
      if (!Array.isArray(v)) throw new EncodeError('unencodable-value', `${describe(v)} is not an array (seq)`);
      w.writeVarint(v.length);
      writeElements(w, s, v);
    },
    read(r) {
      const at = r.offset;
      const n = r.readLength();
      if (elemMin < 0) elemMin = minSizeOf(s);
      r.claimElements(n, elemMin, at);
      return readElements(r, s, n);
    },
  };
}

/** `[T; n]`: exactly n elements, no count. */
export function array<S extends Schema<any>>(s: S, n: number): Schema<Infer<S>[]> & { readonly kind: 'array' } {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`array length must be a non-negative integer, got ${n}`);
  let elemMin = -1;
  return {
    kind: 'array',
    get minSize() {
      return n * minSizeOf(s);
    },
    nullable: false,
    write(w, v) {
      if (!Array.isArray(v) || v.length !== n) throw new EncodeError('unencodable-value', `${describe(v)} is not an array of length ${n}`);
      writeElements(w, s, v);
    },
    read(r) {
      if (elemMin < 0) elemMin = minSizeOf(s);
      // No count on the wire: too little input is plain truncation.
      if (elemMin > 0 && n * elemMin > r.remaining) r.fail('truncated', r.offset, `[T; ${n}] needs at least ${n * elemMin} byte(s)`);
      r.claimElements(n, elemMin, r.offset);
      return readElements(r, s, n);
    },
  };
}

/** The elements of a seq or fixed array, in order (the count, if any, already written); a failure names the element's index. */
function writeElements<T>(w: Writer, s: Schema<T>, v: readonly T[]): void {
  const n = v.length;
  let i = 0;
  try {
    for (; i < n; i++) s.write(w, v[i]!);
  } catch (e) {
    rethrowWithin(e, i);
  }
}

/** `n` elements of a seq or fixed array, in order (their count already claimed from the input). */
function readElements<T>(r: Reader, s: Schema<T>, n: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(s.read(r));
  return out;
}

/** `Option<T>`: tag byte 0 (None) or 1 (Some) then the value. See OptionValue for the JS shape. */
export function option<S extends Schema<any>>(s: S): Schema<OptionValue<Infer<S>>> & { readonly kind: 'option' } {
  // Decided on first use: `s` may be a lazy schema still under construction.
  let wrap: boolean | undefined;
  return {
    kind: 'option',
    minSize: 1,
    nullable: true,
    write(w, v) {
      if (v === null) {
        w.writeU8(0);
        return;
      }
      wrap ??= s.nullable === true;
      w.writeU8(1);
      if (wrap) {
        if (typeof v !== 'object' || !('some' in v)) {
          throw new EncodeError('unencodable-value', `${describe(v)} is not null or { some: value } (Option of a type that includes null)`);
        }
        s.write(w, (v as { some: unknown }).some);
      } else {
        s.write(w, v);
      }
    },
    read(r) {
      if (!r.readOptionTag()) return null as OptionValue<Infer<S>>;
      wrap ??= s.nullable === true;
      const v = s.read(r);
      return (wrap ? { some: v } : v) as OptionValue<Infer<S>>;
    },
  };
}

/** A tuple `(A, B, ...)` (also a tuple struct's fields): the elements in order, no prefix. */
export function tuple<const S extends readonly Schema<any>[]>(...items: S): Schema<InferTuple<S>> & { readonly kind: 'tuple' } {
  const n = items.length;
  return {
    kind: 'tuple',
    get minSize() {
      let m = 0;
      for (const s of items) m += minSizeOf(s);
      return m;
    },
    nullable: false,
    write(w, v) {
      if (!Array.isArray(v) || v.length !== n) throw new EncodeError('unencodable-value', `${describe(v)} is not a tuple of ${n} element(s)`);
      let i = 0;
      try {
        for (; i < n; i++) items[i]!.write(w, v[i]);
      } catch (e) {
        rethrowWithin(e, i);
      }
    },
    read(r) {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(items[i]!.read(r));
      return out as InferTuple<S>;
    },
  };
}

/**
 * A struct: the fields in the object's key order (declare them in the Rust
 * declaration order; names are not on the wire). Value: a plain object.
 */
export function struct<const F extends StructFields>(fields: F): StructSchema<F> {
  const names = Object.keys(fields);
  const schemas = names.map((k) => fields[k]!);
  const n = names.length;
  return {
    kind: 'struct',
    fields,
    get minSize() {
      let m = 0;
      for (const s of schemas) m += minSizeOf(s);
      return m;
    },
    nullable: false,
    write(w, v) {
      if (typeof v !== 'object' || v === null) throw new EncodeError('unencodable-value', `${describe(v)} is not an object (struct)`);
      let i = 0;
      try {
        for (; i < n; i++) schemas[i]!.write(w, (v as Record<string, unknown>)[names[i]!]);
      } catch (e) {
        rethrowWithin(e, names[i]!);
      }
    },
    read(r) {
      const out: Record<string, unknown> = {};
      readFieldsInto(r, out, names, schemas);
      return out as InferFields<F>;
    },
  };
}

/** Reads struct fields into `out` (shared with struct enum variants). */
export function readFieldsInto(r: Reader, out: Record<string, unknown>, names: readonly string[], schemas: readonly Schema<unknown>[]): void {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const v = schemas[i]!.read(r);
    // A field literally named "__proto__" must become an own property, not the prototype.
    if (name === '__proto__') Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
    else out[name] = v;
  }
}

/**
 * `HashMap<K, V>` / `BTreeMap<K, V>`: varint count, then key, value, key,
 * value... Encodes in the Map's iteration order. Decoding accepts any order;
 * a repeated key keeps the last value, comparing object keys (Uint8Array,
 * tuples, structs) by content, so the Map holds the first key object seen.
 */
export function map<KS extends Schema<any>, VS extends Schema<any>>(
  k: KS,
  v: VS,
): Schema<Map<Infer<KS>, Infer<VS>>> & { readonly kind: 'map' } {
  let entryMin = -1;
  return {
    kind: 'map',
    minSize: 1,
    nullable: false,
    write(w, m) {
      if (!(m instanceof Map)) throw new EncodeError('unencodable-value', `${describe(m)} is not a Map`);
      w.writeVarint(m.size);
      let i = 0;
      for (const [key, value] of m) {
        try {
          k.write(w, key);
          v.write(w, value);
        } catch (e) {
          rethrowWithin(e, i);
        }
        i++;
      }
    },
    read(r) {
      const at = r.offset;
      const n = r.readLength();
      if (entryMin < 0) entryMin = minSizeOf(k) + minSizeOf(v);
      r.claimElements(n, entryMin, at);
      const out = new Map<Infer<KS>, Infer<VS>>();
      let firstKeys: Map<string, Infer<KS>> | undefined;
      for (let i = 0; i < n; i++) {
        let key = k.read(r);
        const value = v.read(r);
        if (typeof key === 'object' && key !== null) {
          firstKeys ??= new Map();
          const id = contentId(k, key);
          const seen = firstKeys.get(id);
          if (seen === undefined) firstKeys.set(id, key);
          else key = seen;
        }
        out.set(key, value);
      }
      return out;
    },
  };
}

let idWriter: Writer | undefined;

/** Identity of an object key by content: its bytes (Uint8Array) or its encoding, as a binary string. */
function contentId(s: Schema<unknown>, key: object): string {
  let bytes: Uint8Array;
  if (key instanceof Uint8Array) {
    bytes = key;
  } else {
    const w = (idWriter ??= new Writer(64));
    w.reset();
    s.write(w, key);
    bytes = w.view();
  }
  let id = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    id += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return id;
}

/** A newtype struct `struct Meters(f64)`: exactly its inner value. */
export function newtype<S extends Schema<any>>(s: S): Schema<Infer<S>> & { readonly kind: 'newtype' } {
  return {
    kind: 'newtype',
    get minSize() {
      return minSizeOf(s);
    },
    get nullable() {
      return s.nullable === true;
    },
    write: (w, v) => s.write(w, v),
    read: (r) => s.read(r),
  };
}

/**
 * A schema defined later, for recursive types:
 * `const tree: Schema<Tree> = t.lazy(() => t.struct({ value: t.u32, children: t.vec(tree) }))`.
 * Decoding counts nesting against the reader's maxDepth.
 */
export function lazy<T>(thunk: () => Schema<T>): Schema<T> & { readonly kind: 'lazy' } {
  let target: Schema<T> | undefined;
  let busy = false;
  const get = (): Schema<T> => (target ??= thunk());
  // A getter that re-enters itself means a type with no bytes between two
  // levels of recursion; answering "zero-sized / not nullable" ends the loop.
  const guarded = <R>(f: (s: Schema<T>) => R, fallback: R): R => {
    if (busy) return fallback;
    busy = true;
    try {
      return f(get());
    } finally {
      busy = false;
    }
  };
  return {
    kind: 'lazy',
    get minSize() {
      return guarded((s) => minSizeOf(s), 0);
    },
    get nullable() {
      return guarded((s) => s.nullable === true, false);
    },
    write: (w, v) => get().write(w, v),
    read(r) {
      r.enter();
      const v = get().read(r);
      r.leave();
      return v;
    },
  };
}
