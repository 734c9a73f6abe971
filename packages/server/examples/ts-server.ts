// A TypeScript syncstate server that Rust `TcpStateRemote` clients talk to.
// Its events and hooks mirror the Rust fixture server (fixtures/src/server.rs).
import { t, type Infer } from '@syncstate-ts/codec';
import { kinds } from '@syncstate-ts/core';
import { createServer, type EventHook, type InitHook, type ServerOptions, type SyncStateServer } from '@syncstate-ts/server';

// Same variants, in the same order, as the Rust
// `enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>), Noop, Fail { reason: String } }`.
export const kvEvent = t.enumOf({
  Set: t.tuple(t.string, t.string),
  SetMany: t.vec(t.tuple(t.string, t.string)),
  Noop: t.unit,
  Fail: t.struct({ reason: t.string }),
});
export type KvEvent = Infer<typeof kvEvent>;

/** Applies an event to the master map; every change is served to clients as a diff. */
export const kvHook: EventHook<string, string, KvEvent> = (map, event) => {
  switch (event.type) {
    case 'Set':
      map.set(...event.value); // one update id per Set
      break;
    case 'SetMany': {
      const batch = map.beginModification(); // one update id for the whole batch
      for (const [k, v] of event.value) batch.set(k, v);
      batch.commit();
      break;
    }
    case 'Noop':
      break;
    case 'Fail':
      throw new Error(event.reason); // logged; later events still run
  }
};

/** Maps holding this key are refused: the client's freeze fails with InitFailure. */
export const REJECT_MARKER = '__reject__';
export const rejectMarker: InitHook<string, string> = (map) => {
  if (map.has(REJECT_MARKER)) throw new Error(`maps containing the key "${REJECT_MARKER}" are rejected by this server`);
};

export async function startKvServer(
  options: { cert: string; key: string } & Omit<ServerOptions<string, string, KvEvent>, 'tls' | 'key' | 'value' | 'event'>,
): Promise<SyncStateServer<string, string, KvEvent>> {
  const { cert, key, ...rest } = options;
  const server = createServer({
    tls: { cert, key }, // cert with an IP SAN: Rust clients check the address they dial
    key: kinds.string,
    value: kinds.string,
    event: kvEvent,
    hooks: [kvHook],
    initHooks: [rejectMarker],
    ...rest, // password, and optionally logger, limits, storage...
  });
  await server.listen(); // 127.0.0.1, any free port: read it from server.address()
  return server;
}
