/** Shared pieces of the server tests: a recording logger, KvEvent maps and requests. */
import { decodeResponse, encode, encodeRequestWrapper, type Request, type Response } from '@syncstate-ts/codec';
import { encodeInitData, kinds, StateMap } from '@syncstate-ts/core';
import { ProtocolHandler, type Logger, type ProtocolOptions } from '@syncstate-ts/server';
import { kvEvent, kvHook, rejectMarker, type KvEvent } from './kv-server.js';

export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-shaped logger that keeps every record. */
export function memoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { records, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** A frozen map of string pairs (pushed in order), as a client would hold it. */
export async function clientMap(pairs: Array<[string, string]>): Promise<StateMap<string, string>> {
  const map = new StateMap<string, string>({ key: kinds.string, value: kinds.string });
  for (const [k, v] of pairs) map.push(k, v);
  await map.freeze();
  return map;
}

export async function hashOf(pairs: Array<[string, string]>): Promise<Uint8Array> {
  return (await clientMap(pairs)).hash()!;
}

export const enc = new TextEncoder();

/** Request builders for a map of string pairs. */
export const req = {
  getUpdateId: (hash: Uint8Array): Request => ({ type: 'GetUpdateId', hash }),
  event: (hash: Uint8Array, event: KvEvent): Request => ({ type: 'Event', hash, eventData: encode(kvEvent, event) }),
  rawEvent: (hash: Uint8Array, eventData: Uint8Array): Request => ({ type: 'Event', hash, eventData }),
  getDiff: (hash: Uint8Array, from: bigint, upto: bigint): Request => ({
    type: 'GetDiff',
    hash,
    fromUpdateId: from,
    uptoUpdateId: upto,
  }),
  init: async (pairs: Array<[string, string]>, hash?: Uint8Array): Promise<Request> => {
    const map = await clientMap(pairs);
    return { type: 'Init', hash: hash ?? map.hash()!, initData: encodeInitData(map) };
  },
};

/** The wrapper payload a client sends (no frame header). */
export function payload(password: string, request: Request): Uint8Array {
  return encodeRequestWrapper({ password: enc.encode(password), request });
}

/** Decodes what `respond()` returned (null stays null: closed without an answer). */
export function answer(bytes: Uint8Array | null): Response | null {
  return bytes === null ? null : decodeResponse(bytes);
}

/** The README server's protocol handler (KvEvent hooks, marker-rejecting init hook), without sockets. */
export function kvHandler(
  password: string,
  overrides: Partial<ProtocolOptions<string, string, KvEvent>> = {},
): ProtocolHandler<string, string, KvEvent> {
  return new ProtocolHandler<string, string, KvEvent>({
    password,
    key: kinds.string,
    value: kinds.string,
    event: kvEvent,
    hooks: [kvHook],
    initHooks: [rejectMarker],
    ...overrides,
  });
}
