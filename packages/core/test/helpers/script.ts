// Replays a script of the golden files (core-diffs.json, core-slave.json) on
// our StateMap over a scripted remote, producing results in the golden's form.
import {
  Diff,
  EmptyDiffError,
  FetchUpdateError,
  FrozenError,
  InitError,
  KeyNotFoundError,
  StateMap,
  UnfrozenError,
} from '@syncstate-ts/core';
import type { Remote } from '@syncstate-ts/core';
import { jsonOf, kindOf, pairSet, toHex, valueOf } from './golden.js';
import type { Json, KindName } from './golden.js';

export interface Op {
  op: 'push' | 'setMaster' | 'freeze' | 'set' | 'batch' | 'setUpdateId' | 'get' | 'getDiff';
  key?: string;
  value?: string | boolean;
  sets?: [string, string][];
  read?: string;
  target?: string;
  from?: string;
  upto?: string;
}

export type Outcome = { ok: Json } | { err: { variant: string; message: string } };

export interface ScriptCase {
  name: string;
  description: string;
  keyKind: KindName;
  valueKind: KindName;
  ops: Op[];
  remoteAnswers: Json[];
  results: Outcome[];
  fetchCalls: { current: string; target: string; hash: string }[];
  initCalls: { hash: string; updateId: string; contents: [string, string][] }[];
  final: { frozen: boolean; hash: string | null; updateId: string; contents: [string, string][] };
  getDiffGrid?: GridRow[];
}

export type GridRow = { at: [string, string] } & (
  | { panic: string }
  | { isFull: boolean; from: string; upto: string; entries: [string, string][] }
);

/** Rust `StateMapError` variant of one of our errors. */
export function variantOf(e: unknown): string {
  if (e instanceof FrozenError) return 'Frozen';
  if (e instanceof UnfrozenError) return 'Unfrozen';
  if (e instanceof FetchUpdateError) return 'FetchUpdateError';
  if (e instanceof KeyNotFoundError) return 'KeyNotFound';
  if (e instanceof EmptyDiffError) return 'EmptyDiff';
  if (e instanceof InitError) return 'UnknownError';
  throw e;
}

/** A remote answering fetchUpdates from the script, recording every call like the Rust one. */
export class ScriptRemote implements Remote<any, any> {
  readonly fetchCalls: ScriptCase['fetchCalls'] = [];
  readonly initCalls: { hash: string; updateId: string; contents: string[] }[] = [];
  private readonly answers: any[];

  constructor(
    answers: Json[],
    private readonly keyKind: KindName,
    private readonly valueKind: KindName,
  ) {
    this.answers = [...answers];
  }

  async fetchUpdates(current: bigint, target: bigint, hash: Uint8Array): Promise<Diff<any, any>> {
    this.fetchCalls.push({ current: String(current), target: String(target), hash: toHex(hash) });
    const answer = this.answers.shift();
    if (answer === undefined) throw new Error('no scripted answer left');
    if ('error' in answer) throw new Error(answer.error);
    const entries = (answer.entries as [string, string][]).map(
      ([k, v]) => [valueOf(this.keyKind, k), valueOf(this.valueKind, v)] as const,
    );
    return new Diff(entries, answer.isFull, BigInt(answer.from), BigInt(answer.upto));
  }

  async init(map: StateMap<any, any>): Promise<void> {
    this.initCalls.push({
      hash: toHex(map.hash()!),
      updateId: String(map.getUpdateId()),
      contents: pairSet(map.entries()),
    });
  }
}

export interface Replay {
  map: StateMap<any, any>;
  remote: ScriptRemote;
  results: Outcome[];
}

export async function replay(c: ScriptCase): Promise<Replay> {
  const remote = new ScriptRemote(c.remoteAnswers, c.keyKind, c.valueKind);
  const map = new StateMap<any, any>({ key: kindOf(c.keyKind), value: kindOf(c.valueKind), remote });
  const k = (v: Json | undefined) => valueOf(c.keyKind, v ?? null);
  const v = (x: Json | undefined) => valueOf(c.valueKind, x ?? null);
  const results: Outcome[] = [];
  for (const op of c.ops) {
    try {
      results.push({ ok: await run(op) });
    } catch (e) {
      results.push({ err: { variant: variantOf(e), message: (e as Error).message } });
    }
  }
  return { map, remote, results };

  async function run(op: Op): Promise<Json> {
    switch (op.op) {
      case 'push':
        map.push(k(op.key), v(op.value as string));
        return null;
      case 'setMaster':
        map.setMaster(op.value as boolean);
        return null;
      case 'freeze':
        await map.freeze();
        return null;
      case 'set':
        map.set(k(op.key), v(op.value as string));
        return null;
      case 'batch': {
        const mods = map.beginModification();
        for (const [key, value] of op.sets!) mods.set(k(key), v(value));
        const staged = op.read === undefined ? null : mods.get(k(op.read));
        mods.commit();
        return staged === null || staged === undefined ? null : jsonOf(staged);
      }
      case 'setUpdateId':
        await map.setUpdateId(BigInt(op.target!));
        return null;
      case 'get': {
        const got = map.get(k(op.key));
        return got === undefined ? null : jsonOf(got);
      }
      default:
        throw new Error(`unknown op ${op.op}`);
    }
  }
}
