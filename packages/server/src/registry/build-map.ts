/**
 * The master map of an Init request, built as the Rust server builds it
 * (decode the init data as a HashMap, push every pair, freeze), in slices.
 *
 * A million pairs take seconds of CPU (decode, push, sort and hash): in one
 * piece that would hold the event loop, and every other map's requests,
 * that long. Sliced, the work yields every few milliseconds, so requests
 * for other maps are answered in between. (Measured alternative: a worker
 * thread could decode and hash, but the map has to be built in this thread's
 * heap anyway, and the keys and values would be decoded twice; see
 * BENCHMARKS.md, "Heavy maps".)
 */
import { DuplicateKeyError, type Kind, type Pace, StateMap, decodePairsSliced, inSlices } from '@syncstate-ts/core';

/** Decodes, builds and freezes; rejects with the decoder's error for undecodable init data. */
export async function buildInitMap<K, V>(initData: Uint8Array, key: Kind<K>, value: Kind<V>, pace: Pace): Promise<StateMap<K, V>> {
  let { keys, values } = await decodePairsSliced(initData, key, value, pace);
  let map = await pushAll(keys, values, key, value, pace);
  if (map === undefined) {
    // A repeated key (no Rust client sends one): a HashMap keeps its last value.
    ({ keys, values } = await lastWins(keys, values, key, pace));
    map = (await pushAll(keys, values, key, value, pace))!;
  }
  map.setMaster(true);
  await map.freeze({ pace });
  return map;
}

/** A map with the pairs pushed in order, or undefined if a key repeats. */
async function pushAll<K, V>(keys: K[], values: V[], key: Kind<K>, value: Kind<V>, pace: Pace): Promise<StateMap<K, V> | undefined> {
  const map = new StateMap<K, V>({ key, value });
  let repeated = false;
  await inSlices(keys.length, pace, (a, b) => {
    if (repeated) return;
    try {
      for (let i = a; i < b; i++) map.push(keys[i]!, values[i]!);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      repeated = true;
    }
  });
  return repeated ? undefined : map;
}

/** One pair per key: the last value, at the key's first position (as decodeInitData and the JS Map it builds). */
async function lastWins<K, V>(keys: K[], values: V[], key: Kind<K>, pace: Pace): Promise<{ keys: K[]; values: V[] }> {
  const first = new Map<string | number, number>();
  const outKeys: K[] = [];
  const outValues: V[] = [];
  await inSlices(keys.length, pace, (a, b) => {
    for (let i = a; i < b; i++) {
      const id = key.id(keys[i]!);
      const at = first.get(id);
      if (at === undefined) {
        first.set(id, outKeys.length);
        outKeys.push(keys[i]!);
        outValues.push(values[i]!);
      } else {
        outValues[at] = values[i]!;
      }
    }
  });
  return { keys: outKeys, values: outValues };
}
