// The protocol handler without sockets: every request answered as the Rust
// server answers it (docs/protocol.md, "Server behaviour"), and where Rust is broken, better.
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeRequestWrapper } from '@syncstate-ts/codec';
import { decodeDiffEntries, kinds, U64_MAX, type Modification, type StateMap } from '@syncstate-ts/core';
import { HookExpiredError, type EventHook, type InitHook, type MapStorage, type ProtocolOptions } from '@syncstate-ts/server';
import { collect, duplexPair, frame, unframe } from '@syncstate-ts/testkit/duplex-pair';
import { answer, enc, hashOf, kvHandler, memoryLogger, payload, req } from '@syncstate-ts/testkit/fixtures';
import { describe, expect, it } from 'vitest';
import { kvHook, type KvEvent } from '../examples/ts-server.js';
import { type MapCommit, MemoryStorage, type StoredMap } from '@syncstate-ts/storage';
// serveConnection is an internal (the stream layer under every transport): imported from src on purpose.
import { serveConnection } from '../src/transport/stream.js';
import { streamOptions } from './helpers/stream-options.js';

const PASSWORD = 'hunter2';
const pairs: Array<[string, string]> = [
  ['a', '1'],
  ['b', '2'],
  ['c', '3'],
];

function handler(overrides: Partial<ProtocolOptions<string, string, KvEvent>> = {}) {
  const logger = memoryLogger();
  const h = kvHandler(PASSWORD, { logger, ...overrides });
  const ask = async (request: Parameters<typeof payload>[1], password = PASSWORD) =>
    answer(await h.respond(payload(password, request)));
  return { h, ask, logger };
}

async function withMap(overrides: Partial<ProtocolOptions<string, string, KvEvent>> = {}) {
  const t = handler(overrides);
  const hash = await hashOf(pairs);
  expect(await t.ask(await req.init(pairs))).toEqual({ type: 'InitSuccess' });
  return { ...t, hash };
}

describe('GetUpdateId', () => {
  it('answers HashNotFound for an unknown map and UpdateId for a known one', async () => {
    const { ask, hash } = await withMap();
    expect(await ask(req.getUpdateId(new Uint8Array(32)))).toEqual({ type: 'HashNotFound' });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
  });
});

describe('Init', () => {
  it('builds the master map from the init data, frozen under the claimed hash', async () => {
    let seen: { isMaster: boolean; frozen: boolean; hash: number[]; entries: Array<[string, string]> } | undefined;
    const look = (map: StateMap<string, string>) =>
      void (seen = { isMaster: map.isMaster, frozen: map.isFrozen(), hash: [...map.hash()!], entries: [...map.entries()].sort() });
    const { ask, hash } = await withMap({ initHooks: [look] });
    expect(seen).toEqual({ isMaster: true, frozen: true, hash: [...hash], entries: pairs });
    expect(await ask(req.getDiff(hash, 0n, 0n))).toMatchObject({ type: 'Diff', isFull: false });
  });

  it('answers InitSuccess for an existing map without looking at the data (as Rust)', async () => {
    const { ask, hash, h } = await withMap();
    expect(await ask({ type: 'Init', hash, initData: Uint8Array.of(0xff, 0xff) })).toEqual({ type: 'InitSuccess' });
    expect(h.metrics().maps).toBe(1);
  });

  it('decodes repeated keys last-wins, as Rust rebuilds a HashMap', async () => {
    const { ask } = handler();
    const hash = await hashOf([['k', 'second']]);
    // bincode HashMap: count 2, "k" -> "first", "k" -> "second"
    const initData = Uint8Array.of(2, 1, 0x6b, 5, ...enc.encode('first'), 1, 0x6b, 6, ...enc.encode('second'));
    expect(await ask({ type: 'Init', hash, initData })).toEqual({ type: 'InitSuccess' });
    const diff = await ask(req.getDiff(hash, 0n, 0n));
    expect(diff?.type === 'Diff' && decodeDiffEntries(diff.encodedDiff, kinds.string, kinds.string)).toEqual([['k', 'second']]);
  });

  it('answers HashMismatch, and the hash is not left "in progress" (Rust answers InitSuccess ever after)', async () => {
    const { ask } = handler();
    const hash = await hashOf(pairs);
    const wrong = await req.init([['a', 'tampered']], hash);
    expect(await ask(wrong)).toEqual({ type: 'HashMismatch' });
    expect(await ask(wrong)).toEqual({ type: 'HashMismatch' });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'HashNotFound' });
    expect(await ask(await req.init(pairs))).toEqual({ type: 'InitSuccess' });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
  });

  it('runs init hooks in order; the first error answers InitFailure with its message and creates no map', async () => {
    const ran: string[] = [];
    const hooks: InitHook<string, string>[] = [
      () => void ran.push('first'),
      async () => {
        ran.push('second');
        throw new Error('quota exceeded');
      },
      () => void ran.push('third'),
    ];
    const { ask, h } = handler({ initHooks: hooks });
    const hash = await hashOf(pairs);
    expect(await ask(await req.init(pairs))).toEqual({ type: 'InitFailure', errorMessage: 'quota exceeded' });
    expect(ran).toEqual(['first', 'second']);
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'HashNotFound' });
    expect(h.metrics()).toMatchObject({ maps: 0, initFailures: 1 });
    // Nothing stuck: the next Init runs the hooks again.
    expect(await ask(await req.init(pairs))).toEqual({ type: 'InitFailure', errorMessage: 'quota exceeded' });
    expect(ran).toEqual(['first', 'second', 'first', 'second']);
  });

  it('uses String(x) as the message of a hook that throws a non-Error', async () => {
    const { ask } = handler({ initHooks: [() => Promise.reject('nope')] });
    expect(await ask(await req.init(pairs))).toEqual({ type: 'InitFailure', errorMessage: 'nope' });
  });

  it('keeps changes init hooks make (they run on the frozen master map)', async () => {
    const { ask, hash } = await withMap({ initHooks: [(map) => map.set('a', 'from-init-hook')] });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
  });

  it('closes without an answer for undecodable init data, leaving nothing behind', async () => {
    const { ask, h } = handler();
    const hash = await hashOf(pairs);
    expect(await ask({ type: 'Init', hash, initData: Uint8Array.of(5, 1) })).toBeNull();
    expect(h.metrics().errors).toEqual({ 'undecodable-init-data': 1 });
    expect(await ask(await req.init(pairs))).toEqual({ type: 'InitSuccess' });
  });

  it('creates ONE map for concurrent Inits of one hash, all answered InitSuccess', async () => {
    let runs = 0;
    const { ask, h } = handler({
      initHooks: [
        async () => {
          runs++;
          await sleep(20);
        },
      ],
    });
    const init = await req.init(pairs);
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(init)));
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ type: 'InitSuccess' })));
    expect(runs).toBe(1);
    expect(h.metrics().maps).toBe(1);
  });

  it('lets a concurrent Init with the right data succeed after one with wrong data failed', async () => {
    const { ask } = handler({ initHooks: [() => sleep(10)] });
    const hash = await hashOf(pairs);
    const [bad, good] = await Promise.all([ask(await req.init([['x', 'y']], hash)), ask(await req.init(pairs))]);
    expect(bad).toEqual({ type: 'HashMismatch' });
    expect(good).toEqual({ type: 'InitSuccess' });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
  });
});

describe('Event', () => {
  it('answers HashNotFound for an unknown map before looking at the payload (as Rust)', async () => {
    const { ask, h } = handler();
    expect(await ask(req.rawEvent(new Uint8Array(32), Uint8Array.of(0xff)))).toEqual({ type: 'HashNotFound' });
    expect(h.metrics().errors).toEqual({});
  });

  it('answers EventInProcess before any hook runs, then the hooks change the master map', async () => {
    const order: string[] = [];
    const { h, ask, hash } = await withMap({
      hooks: [
        (map, event) => {
          order.push('hook');
          kvHook(map, event, { hash: new Uint8Array(32), hashHex: '' });
        },
      ],
    });
    const answered = h.respond(payload(PASSWORD, req.event(hash, { type: 'Set', value: ['a', 'A'] }))).then((bytes) => {
      order.push('answered');
      return answer(bytes);
    });
    expect(await answered).toEqual({ type: 'EventInProcess' });
    await h.idle();
    expect(order).toEqual(['answered', 'hook']);
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
    const diff = await ask(req.getDiff(hash, 0n, 1n));
    expect(diff).toMatchObject({ type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 1n, isFull: false });
    // From 0 the merge starts at the freeze entry (all pairs), as in Rust.
    const entries = diff?.type === 'Diff' ? decodeDiffEntries(diff.encodedDiff, kinds.string, kinds.string) : [];
    expect(entries.sort()).toEqual([['a', 'A'], ['b', '2'], ['c', '3']]);
  });

  it('applies the events of one map one at a time, in arrival order, even with async hooks', async () => {
    const log: string[] = [];
    let running = 0;
    let overlap = false;
    const slowHook: EventHook<string, string, KvEvent> = async (map, event) => {
      if (event.type !== 'Set') return;
      running++;
      if (running > 1) overlap = true;
      log.push(`start ${event.value[1]}`);
      await sleep(Math.random() * 5);
      map.set(...event.value);
      log.push(`end ${event.value[1]}`);
      running--;
    };
    const { ask, h, hash } = await withMap({ hooks: [slowHook] });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask(req.event(hash, { type: 'Set', value: ['a', String(i)] }))),
    );
    expect(answers.every((a) => a?.type === 'EventInProcess')).toBe(true);
    await h.idle();
    expect(overlap).toBe(false);
    expect(log).toEqual(Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 20n });
  });

  it('lets a read see every event accepted before it', async () => {
    const slow: EventHook<string, string, KvEvent> = async (map, event) => {
      await sleep(15);
      kvHook(map, event, { hash: new Uint8Array(32), hashHex: '' });
    };
    const { ask, hash } = await withMap({ hooks: [slow] });
    await ask(req.event(hash, { type: 'Set', value: ['b', 'B'] }));
    await ask(req.event(hash, { type: 'SetMany', value: [['a', 'A'], ['c', 'C']] }));
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 2n });
  });

  it('logs hook errors with context; the other hooks and later events still run', async () => {
    const ran: string[] = [];
    const { ask, h, hash, logger } = await withMap({
      hooks: [kvHook, (_map, event) => void ran.push(event.type)],
    });
    await ask(req.event(hash, { type: 'Fail', reason: 'disk on fire' }));
    await ask(req.event(hash, { type: 'Set', value: ['nope', 'x'] })); // KeyNotFound inside the hook
    await ask(req.event(hash, { type: 'Set', value: ['a', 'ok'] }));
    await h.idle();
    expect(ran).toEqual(['Fail', 'Set', 'Set']);
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
    const errors = logger.records.filter((r) => r.level === 'error');
    expect(errors.map((r) => [r.obj.hash, r.obj.hookIndex, r.obj.event, (r.obj.err as Error).message])).toEqual([
      [Buffer.from(hash).toString('hex'), 0, 'Fail', 'hook 0 failed: disk on fire'],
      [Buffer.from(hash).toString('hex'), 0, 'Set', expect.stringMatching(/^hook 0 failed: /)],
    ]);
    expect(h.metrics()).toMatchObject({ hookFailures: 2, eventsProcessed: 3, eventsPending: 0 });
  });

  it('gives up waiting for a hook after hookTimeoutMs and moves on to the next event', async () => {
    const { ask, h, hash } = await withMap({
      hooks: [(map, event) => (event.type === 'Noop' ? new Promise<void>(() => {}) : kvHook(map, event, { hash, hashHex: '' }))],
      limits: { hookTimeoutMs: 30 },
    });
    await ask(req.event(hash, { type: 'Noop' }));
    await ask(req.event(hash, { type: 'Set', value: ['a', 'after'] }));
    await h.idle();
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
    expect(h.metrics()).toMatchObject({ hookFailures: 1, errors: { 'hook-timeout': 1 } });
  });

  it('a hook that times out and then changes its map is refused: nothing changes behind the queue or the storage', async () => {
    const logger = memoryLogger();
    let late: unknown;
    const { ask, h, hash } = await withMap({
      logger,
      limits: { hookTimeoutMs: 30 },
      hooks: [
        async (map, event) => {
          if (event.type !== 'Noop') return kvHook(map, event, { hash, hashHex: '' });
          await sleep(80); // past hookTimeoutMs: no longer awaited
          try {
            map.set('a', 'too late');
          } catch (err) {
            late = err;
          }
        },
      ],
    });
    await ask(req.event(hash, { type: 'Noop' }));
    await ask(req.event(hash, { type: 'Set', value: ['b', 'in its turn'] }));
    await h.idle();
    await sleep(100);
    expect(late).toBeInstanceOf(HookExpiredError);
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
    const diff = await ask(req.getDiff(hash, 0n, 1n));
    const values = new Map(decodeDiffEntries((diff as { encodedDiff: Uint8Array }).encodedDiff, kinds.string, kinds.string));
    expect([values.get('a'), values.get('b')]).toEqual(['1', 'in its turn']);
    expect(h.metrics().errors).toMatchObject({ 'hook-timeout': 1, 'hook-expired': 1 });
    expect(logger.records.filter((r) => r.level === 'warn').map((r) => r.msg)).toContain('hook used its map after its run ended; refused');
  });

  it('a map (or a modification) kept by a hook for later is refused after the hook returned', async () => {
    let kept: StateMap<string, string> | undefined;
    let pending: Modification<string, string> | undefined;
    const { ask, h, hash } = await withMap({
      hooks: [
        (map) => {
          kept = map;
          pending = map.beginModification().set('a', 'staged in the run');
        },
      ],
    });
    await ask(req.event(hash, { type: 'Noop' }));
    await h.idle();
    expect(() => kept!.set('a', 'later')).toThrow(HookExpiredError);
    expect(() => kept!.size).toThrow(HookExpiredError);
    expect(() => pending!.commit()).toThrow(HookExpiredError);
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
    expect(h.metrics().errors).toEqual({ 'hook-expired': 1 }); // counted once per run
  });

  it('closes without an answer for an undecodable event; the map is unaffected', async () => {
    const { ask, h, hash } = await withMap();
    expect(await ask(req.rawEvent(hash, Uint8Array.of(9)))).toBeNull(); // variant 9 does not exist
    expect(await ask(req.event(hash, { type: 'Set', value: ['a', 'fine'] }))).toEqual({ type: 'EventInProcess' });
    await h.idle();
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
    expect(h.metrics().errors).toEqual({ 'undecodable-event': 1 });
  });

  it('drops events beyond maxPendingEventsPerMap without an answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { ask, h, hash } = await withMap({ hooks: [() => gate], limits: { maxPendingEventsPerMap: 2 } });
    const noop = req.event(hash, { type: 'Noop' });
    expect(await ask(noop)).toEqual({ type: 'EventInProcess' });
    expect(await ask(noop)).toEqual({ type: 'EventInProcess' });
    expect(await ask(noop)).toBeNull();
    expect(h.metrics()).toMatchObject({ eventsPending: 2, errors: { 'event-queue-full': 1 } });
    release();
    await h.idle();
    expect(await ask(noop)).toEqual({ type: 'EventInProcess' });
  });
});

describe('GetDiff', () => {
  async function withHistory(updates: number, overrides: Partial<ProtocolOptions<string, string, KvEvent>> = {}) {
    const t = await withMap(overrides);
    for (let i = 1; i <= updates; i++) await t.ask(req.event(t.hash, { type: 'Set', value: [i % 2 ? 'a' : 'b', `v${i}`] }));
    await t.h.idle();
    const diff = async (from: bigint, upto: bigint) => {
      const r = await t.ask(req.getDiff(t.hash, from, upto));
      if (r?.type !== 'Diff') throw new Error(`expected a Diff, got ${JSON.stringify(r)}`);
      const entries = decodeDiffEntries(r.encodedDiff, kinds.string, kinds.string).sort();
      return { from: r.fromUpdateId, upto: r.uptoUpdateId, isFull: r.isFull, entries };
    };
    return { ...t, diff };
  }

  it('answers HashNotFound for an unknown map', async () => {
    const { ask } = handler();
    expect(await ask(req.getDiff(new Uint8Array(32), 0n, 1n))).toEqual({ type: 'HashNotFound' });
  });

  it('answers the merged diff between two ids', async () => {
    const { diff } = await withHistory(4);
    expect(await diff(1n, 3n)).toEqual({ from: 1n, upto: 3n, isFull: false, entries: [['a', 'v3'], ['b', 'v2']] });
  });

  it('answers an up-to-date poll with a FULL diff, as Rust (a Rust client turns an empty one into EmptyDiff)', async () => {
    const { diff } = await withHistory(2);
    expect(await diff(2n, 7n)).toEqual({
      from: 0n,
      upto: 2n,
      isFull: true,
      entries: [['a', 'v1'], ['b', 'v2'], ['c', '3']],
    });
  });

  it('answers an empty diff for from > upto, where Rust panics and poisons its server', async () => {
    const { diff, ask, hash } = await withHistory(3);
    expect(await diff(2n, 1n)).toEqual({ from: 0n, upto: 0n, isFull: false, entries: [] });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 3n }); // still serving
  });

  it('answers from == upto inside the history with Rust\'s merge of nothing (from u64::MAX, upto 0)', async () => {
    const { diff } = await withHistory(3);
    expect(await diff(2n, 2n)).toEqual({ from: U64_MAX, upto: 0n, isFull: false, entries: [] });
  });

  it('with maxHistory, answers requests from before the kept history with a full diff, others unchanged', async () => {
    // A Noop event's hook reports the master map's history length (a hook sees the map only during its run).
    let historySize: number | undefined;
    const recordOnNoop: EventHook<string, string, KvEvent> = (map, event, context) =>
      event.type === 'Noop' ? void (historySize = map.historySize) : kvHook(map, event, context);
    const bounded = await withHistory(10, { limits: { maxHistory: 3 }, hooks: [recordOnNoop] });
    const unbounded = await withHistory(10);
    expect(await bounded.diff(10n, 10n)).toMatchObject({ upto: 10n }); // a read: pending changes stored, history trimmed
    await bounded.ask(req.event(bounded.hash, { type: 'Noop' }));
    await bounded.h.idle();
    expect(historySize).toBe(3); // dropped from memory, not only hidden
    // Kept: (7→8), (8→9), (9→10).
    for (const [from, upto] of [
      [7n, 10n],
      [8n, 9n],
      [9n, 12n],
      [10n, 10n],
      [8n, 8n],
    ] as const) {
      expect(await bounded.diff(from, upto)).toEqual(await unbounded.diff(from, upto));
    }
    const full = { from: 0n, upto: 10n, isFull: true, entries: [['a', 'v9'], ['b', 'v10'], ['c', '3']] };
    expect(await bounded.diff(0n, 10n)).toEqual(full);
    expect(await bounded.diff(6n, 10n)).toEqual(full);
    expect(await unbounded.diff(6n, 10n)).toMatchObject({ from: 6n, isFull: false });
    // A request for ids below the kept history: Rust's "asks for the past" answer.
    expect(await bounded.diff(7n, 7n)).toEqual({ from: 0n, upto: 0n, isFull: false, entries: [] });
  });
});

describe('passwords and undecodable requests', () => {
  it('answers IncorrectPassword after the configured random delay, for every request kind', async () => {
    const { ask, hash, h } = await withMap({ limits: { incorrectPasswordDelayMs: [20, 25] } });
    for (const request of [req.getUpdateId(hash), req.event(hash, { type: 'Noop' }), req.getDiff(hash, 0n, 0n), await req.init(pairs)]) {
      for (const wrong of ['', 'hunter', 'hunter2 ', 'x'.repeat(1000)]) {
        const started = performance.now();
        expect(await ask(request, wrong)).toEqual({ type: 'IncorrectPassword' });
        expect(performance.now() - started).toBeGreaterThanOrEqual(19);
      }
    }
    expect(h.metrics().responses.IncorrectPassword).toBe(16);
    expect(h.metrics().requests).toEqual({ GetUpdateId: 4, Event: 4, GetDiff: 4, Init: 5 });
  });

  it('accepts a password given as bytes', async () => {
    const { h } = handler({ password: Uint8Array.of(0, 255, 7) });
    const hash = await hashOf(pairs);
    const ask = async (password: Uint8Array) =>
      answer(await h.respond(encodeRequestWrapper({ password, request: req.getUpdateId(hash) })));
    expect(await ask(Uint8Array.of(0, 255, 7))).toEqual({ type: 'HashNotFound' });
    expect(await ask(Uint8Array.of(0, 255))).toEqual({ type: 'IncorrectPassword' });
  });

  it('closes without an answer for bytes that are not a request, and keeps serving', async () => {
    const { h, ask, hash } = await withMap();
    for (const junk of [new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(2, 0x68, 0x69, 7), new Uint8Array(64).fill(0xfd)]) {
      expect(await h.respond(junk)).toBeNull();
    }
    expect(h.metrics().errors).toEqual({ 'undecodable-request': 4 });
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
  });

  it('never allocates what a payload claims: a string claiming 2^40 bytes is refused, not attempted', async () => {
    const { ask, h } = handler();
    const hash = await hashOf(pairs);
    // HashMap count 1, key String with length 2^40 (varint marker 253 + u64 LE), no bytes.
    const initData = Uint8Array.of(1, 253, 0, 0, 0, 0, 0, 1, 0, 0);
    expect(await ask({ type: 'Init', hash, initData })).toBeNull();
    expect(h.metrics().errors).toEqual({ 'undecodable-init-data': 1 });
  });
});

describe('storage', () => {
  class RecordingStorage extends MemoryStorage<string, string> {
    readonly calls: string[] = [];
    failCommit = false;
    override async create(hash: Uint8Array, hex: string, map: StoredMap<string, string>): Promise<void> {
      this.calls.push(`create ${map.updateId}`);
      return super.create(hash, hex, map);
    }
    commitCalls = 0;
    override async commit(hash: Uint8Array, hex: string, commit: MapCommit<string, string>) {
      this.commitCalls++;
      await sleep(10); // durable writes take time
      if (this.failCommit) throw new Error('disk full');
      this.calls.push(...commit.entries.map((c) => `commit ${c.fromUpdateId}->${c.uptoUpdateId}`));
      if (commit.floor !== undefined) this.calls.push(`floor ${commit.floor}`);
      return super.commit(hash, hex, commit);
    }
  }

  it('stores a new map before answering InitSuccess, and every change before a read can see it', async () => {
    const storage = new RecordingStorage();
    const { ask, hash, h } = await withMap({ storage });
    expect(storage.calls).toEqual(['create 0']);
    await ask(req.event(hash, { type: 'Set', value: ['a', 'x'] }));
    await ask(req.event(hash, { type: 'Noop' }));
    await ask(req.event(hash, { type: 'SetMany', value: [['a', 'y'], ['b', 'z']] }));
    // This read queues behind the events, and each event behind its commit.
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 2n });
    expect(storage.calls).toEqual(['create 0', 'commit 0->1', 'commit 1->2']);
    await h.close();
  });

  it('tells the storage which history it may forget under maxHistory', async () => {
    const storage = new RecordingStorage();
    const { ask, hash, h } = await withMap({ storage, limits: { maxHistory: 2 } });
    for (let i = 0; i < 3; i++) await ask(req.event(hash, { type: 'Set', value: ['a', String(i)] }));
    await h.idle();
    // The second and third events queued while the first was stored: one commit for both (group commit),
    // which says that entries up to 1 may be forgotten (maxHistory 2: entries 1->2 and 2->3 stay).
    expect(storage.calls).toEqual(['create 0', 'commit 0->1', 'commit 1->2', 'commit 2->3', 'floor 1']);
    expect((await storage.load(hash, Buffer.from(hash).toString('hex')))!.history.map((d) => d.uptoUpdateId)).toEqual([2n, 3n]);
  });

  it('stores a burst of events of one map in one commit (group commit), never after a read that follows', async () => {
    const storage = new RecordingStorage();
    const { ask, hash, h } = await withMap({ storage });
    for (let i = 0; i < 20; i++) await ask(req.event(hash, { type: 'Set', value: ['a', String(i)] }));
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 20n });
    // Every update is stored, one entry each, before the read answered...
    expect(storage.calls).toEqual(['create 0', ...Array.from({ length: 20 }, (_, i) => `commit ${i}->${i + 1}`)]);
    // ...in far fewer writes than events.
    expect(storage.commitCalls).toBeLessThanOrEqual(3);
    await h.close();
  });

  it('drops changes that could not be stored and serves the map as last stored, never the unstored changes', async () => {
    const storage = new RecordingStorage();
    const { ask, hash, h } = await withMap({ storage });
    storage.failCommit = true;
    await ask(req.event(hash, { type: 'Set', value: ['a', 'lost'] }));
    await h.idle();
    expect(h.metrics().errors).toMatchObject({ 'storage-failed': 1 });
    // Loaded again from the storage: update id 0, 'a' as it was.
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
    const full = await ask(req.getDiff(hash, 0n, 0n));
    expect(full?.type === 'Diff' && decodeDiffEntries(full.encodedDiff, kinds.string, kinds.string)).toEqual(pairs);
    storage.failCommit = false;
    await ask(req.event(hash, { type: 'Set', value: ['a', 'kept'] }));
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
  });
});

describe('over a stream', () => {
  it('answers a request read from an in-memory stream pair, as node:tls hands it over', async () => {
    const { h, hash } = await withMap();
    const [server, client] = duplexPair();
    const options = streamOptions({ peer: 'memory' });
    const served = serveConnection(server, (p) => h.respond(p, 'memory'), options);
    const received = collect(client);
    client.write(frame(payload(PASSWORD, req.getUpdateId(hash))));
    const { bytes } = await received;
    await served;
    expect(answer(unframe(bytes))).toEqual({ type: 'UpdateId', updateId: 0n });
    expect(options.metrics.snapshot()).toMatchObject({ bytesIn: 4 + payload(PASSWORD, req.getUpdateId(hash)).length, bytesOut: 6 });
  });

  it('close() waits for accepted events, then refuses new work', async () => {
    const { h, ask, hash } = await withMap({ hooks: [async (map) => void (await sleep(20), map.set('a', 'late'))] });
    await ask(req.event(hash, { type: 'Noop' }));
    const closing = h.close();
    expect(h.close()).toBe(closing);
    await closing;
    expect(h.metrics().eventsProcessed).toBe(1);
    expect(await ask(req.event(hash, { type: 'Noop' }))).toBeNull();
  });
});
