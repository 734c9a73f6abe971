/**
 * The built-in event schema of `syncstate serve`: key-value writes that Rust
 * and TypeScript clients can send with no code of their own. On the Rust side:
 *
 *   #[derive(Serialize, Deserialize)]
 *   enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>) }
 *
 * Variants are matched by position, so a Rust enum that starts with these two
 * (as the fixture program's does) interoperates for Set and SetMany.
 */
import { t, type Infer } from '@syncstate-ts/codec';
import type { EventHook } from '@syncstate-ts/server';

export const kvEvent = t.enumOf({
  Set: t.tuple(t.string, t.string),
  SetMany: t.vec(t.tuple(t.string, t.string)),
});
export type KvEvent = Infer<typeof kvEvent>;

/**
 * Applies a KvEvent to the master map. Set is one update; SetMany is one
 * batch (one update id for all its pairs). A key the map does not have
 * throws KeyNotFoundError before anything is committed: the server logs it
 * and the map is unchanged.
 */
export const kvHook: EventHook<string, string, KvEvent> = (map, event) => {
  if (event.type === 'Set') {
    map.set(...event.value);
    return;
  }
  const batch = map.beginModification();
  for (const [key, value] of event.value) batch.set(key, value);
  batch.commit();
};
