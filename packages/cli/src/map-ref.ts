/**
 * The <map> argument of get/set/watch/status: a map's hash (64 hex digits,
 * as `init` prints it) or the JSON file the map was created from.
 */
import { existsSync } from 'node:fs';
import { toHex } from '@syncstate-ts/codec';
import { buildMap, readMapFile } from './map-file.js';
import { usageError } from './exit-codes.js';

export interface MapRef {
  hash: Uint8Array;
  hashHex: string;
  /** The keys, when the map was named by its file. */
  keys?: ReadonlySet<string>;
}

const HASH_PATTERN = /^[0-9a-fA-F]{64}$/;

export async function resolveMapRef(arg: string): Promise<MapRef> {
  if (HASH_PATTERN.test(arg) && !existsSync(arg)) {
    const hash = Uint8Array.from(Buffer.from(arg, 'hex'));
    return { hash, hashHex: arg.toLowerCase() };
  }
  if (!existsSync(arg)) {
    throw usageError(`${JSON.stringify(arg)} is neither a map hash (64 hex digits, as \`syncstate init\` prints) nor a JSON file`);
  }
  const pairs = await readMapFile(arg);
  const map = await buildMap(pairs, arg);
  const hash = map.hash()!;
  return { hash, hashHex: toHex(hash), keys: new Set(pairs.map(([k]) => k)) };
}

/** "3f2a9c…e1d0": enough of a hash to recognise it in messages. */
export function shortHash(hashHex: string): string {
  return `${hashHex.slice(0, 8)}…`;
}
