// The schema namespace, exported as `t`: `t.u64`, `t.vec(t.string)`,
// `t.enumOf({...})`. One name per serde data-model type.

export {
  bool,
  u8,
  u16,
  u32,
  u64,
  u128,
  usize,
  i8,
  i16,
  i32,
  i64,
  i128,
  f32,
  f64,
  char,
  string,
  bytes,
  fixedBytes,
  unit,
  unitStruct,
} from './primitives.js';
export { vec, array, option, tuple, struct, map, newtype, lazy } from './combinators.js';
export { enumOf } from './enum.js';
