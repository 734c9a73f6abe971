/** Client-side helpers of the live tests: KvEvent events, remotes and maps, polling. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote, type TcpStateRemoteOptions } from '@syncstate-ts/remote';
import { kvEvent, type KvEvent } from './kv-server.js';
import type { RustServer } from './rust.js';

// The README server's event type: the Rust fixture server's
// `enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>), Noop, Fail { reason: String } }`.
export { kvEvent, type KvEvent };

export const kv = (content: KvEvent): Event<KvEvent> => new Event(kvEvent, content);

/** A remote to a server as startRustServer describes it (port, certificate, password). */
export function remoteFor(
  server: Pick<RustServer, 'port' | 'cert' | 'password'>,
  overrides: Partial<TcpStateRemoteOptions<string, string>> = {},
): TcpStateRemote<string, string> {
  return new TcpStateRemote({
    port: server.port,
    tls: { ca: server.cert },
    password: server.password,
    key: kinds.string,
    value: kinds.string,
    ...overrides,
  });
}

export function mapOf(remote: TcpStateRemote<string, string>, pairs: Iterable<readonly [string, string]>): StateMap<string, string> {
  const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
  for (const [k, v] of pairs) map.push(k, v);
  return map;
}

/** A map with core's DummyRemote: freeze() talks to no server. */
export function localMap(pairs: Iterable<readonly [string, string]>): StateMap<string, string> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (const [k, v] of pairs) map.push(k, v);
  return map;
}

/** The map's pairs as a plain object, for whole-map assertions. */
export function snapshot(map: Iterable<readonly [string, string]>): Record<string, string> {
  return Object.fromEntries([...map]);
}

/**
 * Hooks run on a server thread after EventInProcess: poll the update id
 * until it reaches `id` (fails after 5 s).
 */
export async function waitForUpdateId(remote: TcpStateRemote<string, string>, hash: Uint8Array, id: bigint): Promise<void> {
  const deadline = Date.now() + 5_000;
  let seen = -1n;
  while (Date.now() < deadline) {
    seen = await remote.getUpdateId(hash);
    if (seen >= id) break;
    await sleep(10);
  }
  if (seen !== id) throw new Error(`the server's update id is ${seen}, expected ${id}`);
}
