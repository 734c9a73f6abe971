// Reading the core golden files (written by fixtures/src/capture_core.rs):
// strings are JSON strings, bytes lowercase hex, u64 decimal strings.
import { toHex } from '@syncstate-ts/codec';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kinds } from '@syncstate-ts/core';
import type { Kind } from '@syncstate-ts/core';
import { goldenDir } from '@syncstate-ts/testkit/rust-fixtures';

export type KindName = 'string' | 'bytes' | 'bytes32';
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export function loadGolden<T>(file: string): T {
  const path = join(goldenDir, file);
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} is missing: run \`pnpm fixtures\` (the Rust fixture program writes it)`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function kindOf(name: KindName): Kind<any> {
  if (name === 'string') return kinds.string;
  if (name === 'bytes') return kinds.bytes;
  return kinds.fixedBytes(32);
}

export function fromHex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error(`bad hex ${s}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export { toHex };

/** A golden JSON value as a value of the kind. */
export function valueOf(kind: KindName, v: Json): any {
  if (typeof v !== 'string') throw new Error(`golden value ${JSON.stringify(v)} is not a string`);
  return kind === 'string' ? v : fromHex(v);
}

/** A value of the kind in the golden JSON form. */
export function jsonOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return toHex(v);
  throw new Error(`cannot show ${String(v)}`);
}

/** Pairs in JSON form, sorted, for order-insensitive comparisons (Rust's HashMap order is random). */
export function pairSet(pairs: Iterable<readonly [unknown, unknown]>): string[] {
  return [...pairs].map(([k, v]) => JSON.stringify([jsonOf(k), jsonOf(v)])).sort();
}

export function goldenPairSet(pairs: Json): string[] {
  return (pairs as [string, string][]).map((p) => JSON.stringify(p)).sort();
}
