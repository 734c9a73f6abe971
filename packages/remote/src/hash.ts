/** Argument checks for the 32-byte map hash that names a map on the server. */
import { HASH_LENGTH } from '@syncstate-ts/codec';
import type { StateMap } from '@syncstate-ts/core';

export function frozenHash<K, V>(map: StateMap<K, V>): Uint8Array {
  const hash = map.hash();
  if (hash === undefined) throw new TypeError('the state map must be frozen first (its hash identifies it on the server)');
  return hash;
}

export function checkHash(hash: Uint8Array): Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw new TypeError(`a state map hash is ${HASH_LENGTH} bytes, got ${got}`);
  }
  return hash;
}
