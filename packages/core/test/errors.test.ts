// Every error the state map reports: its class, code, message, and that the
// failed call changed nothing.
import { describe, expect, it } from 'vitest';
import {
  Diff,
  DummyRemote,
  DuplicateKeyError,
  EmptyDiffError,
  FetchUpdateError,
  FrozenError,
  InitError,
  InvalidValueError,
  KeyNotFoundError,
  ModificationCommittedError,
  StateMap,
  StateMapError,
  U64_MAX,
  UnfrozenError,
  UpdateIdOverflowError,
  kinds,
} from '@syncstate-ts/core';
import type { Remote, StateMapErrorCode } from '@syncstate-ts/core';
import { remoteAnswering } from './helpers/remotes.js';

function stringMap(remote?: Remote<string, string>): StateMap<string, string> {
  const map = new StateMap<string, string>(
    remote === undefined ? { key: kinds.string, value: kinds.string } : { key: kinds.string, value: kinds.string, remote },
  );
  map.push('a', 'a0');
  map.push('b', 'b0');
  return map;
}

/** Runs f (sync or async) and returns what it threw. */
async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('error classes', () => {
  it('carry a code, a name and the Rust Display text where Rust has the variant', () => {
    const table: [StateMapError, StateMapErrorCode, string, string | RegExp][] = [
      [new FrozenError(), 'frozen', 'FrozenError', 'The StateMap is frozen, modifications to keys is not possible, only the data can be mutated using updates'],
      [new UnfrozenError(), 'unfrozen', 'UnfrozenError', 'The StateMap is not frozen, Please freeze the StateMap before doing any post init operations.'],
      [new KeyNotFoundError(), 'key-not-found', 'KeyNotFoundError', 'Key not found in the statemap'],
      [new EmptyDiffError(), 'empty-diff', 'EmptyDiffError', 'Empty diff, no items in diff'],
      [new FetchUpdateError('boom'), 'fetch-update', 'FetchUpdateError', 'Error while trying to fetch updates: boom'],
      [new DuplicateKeyError(), 'duplicate-key', 'DuplicateKeyError', /already in the statemap/],
      [new InitError({ cause: new Error('down') }), 'init', 'InitError', 'Remote init failed: down'],
      [new InvalidValueError('bad'), 'invalid-value', 'InvalidValueError', 'bad'],
      [new UpdateIdOverflowError(), 'update-id-overflow', 'UpdateIdOverflowError', /2\^64 - 1/],
      [new ModificationCommittedError(), 'modification-committed', 'ModificationCommittedError', /already committed/],
    ];
    for (const [e, code, name, message] of table) {
      expect(e).toBeInstanceOf(StateMapError);
      expect(e).toBeInstanceOf(Error);
      expect(e.code).toBe(code);
      expect(e.name).toBe(name);
      expect(e.message).toMatch(message);
    }
  });
});

describe('FrozenError', () => {
  it('push, setMaster, set and beginModification on a frozen slave', async () => {
    const map = stringMap();
    await map.freeze();
    expect(() => map.push('c', 'c0')).toThrow(FrozenError);
    expect(() => map.setMaster(true)).toThrow(FrozenError);
    expect(() => map.set('a', 'a1')).toThrow(FrozenError);
    expect(() => map.beginModification()).toThrow(FrozenError);
    expect(map.size).toBe(2);
    expect(map.get('a')).toBe('a0');
    expect(map.getUpdateId()).toBe(0n);
    expect(map.isMaster).toBe(false);
  });

  it('push and setMaster on a frozen master, which still takes set', async () => {
    const map = stringMap();
    map.setMaster(true);
    await map.freeze();
    expect(() => map.push('c', 'c0')).toThrow(FrozenError);
    expect(() => map.setMaster(false)).toThrow(FrozenError);
    map.set('a', 'a1');
    expect(map.getUpdateId()).toBe(1n);
  });

  it('commit of a batch begun before a slave froze', async () => {
    const map = stringMap();
    const mods = map.beginModification().set('a', 'a1');
    await map.freeze();
    expect(() => mods.commit()).toThrow(FrozenError);
    expect(map.get('a')).toBe('a0');
    expect(map.getUpdateId()).toBe(0n);
  });
});

describe('UnfrozenError', () => {
  it('setUpdateId above the current id before freeze, without calling the remote', async () => {
    const remote = remoteAnswering(() => Promise.resolve(Diff.empty()));
    const map = stringMap(remote);
    expect(await thrown(() => map.setUpdateId(1n))).toBeInstanceOf(UnfrozenError);
    expect(remote.calls).toEqual([]);
    await map.setUpdateId(0n); // target <= current: nothing to do, even unfrozen
  });

  it('applyDiff before freeze', () => {
    const map = stringMap();
    expect(() => map.applyDiff(new Diff([['a', 'x']], false, 0n, 1n))).toThrow(UnfrozenError);
    expect(map.get('a')).toBe('a0');
  });
});

describe('KeyNotFoundError', () => {
  it('set and a staged set of a key the map lacks', () => {
    const map = stringMap();
    expect(() => map.set('zz', 'x')).toThrow(KeyNotFoundError);
    const mods = map.beginModification();
    expect(() => mods.set('zz', 'x')).toThrow(KeyNotFoundError);
    expect(map.getUpdateId()).toBe(0n);
  });

  it('comes before FrozenError for set, as in Rust', async () => {
    const map = stringMap();
    await map.freeze();
    expect(() => map.set('zz', 'x')).toThrow(KeyNotFoundError);
  });

  it('a received diff naming a key the map lacks applies nothing', async () => {
    const map = stringMap(remoteAnswering(() => Promise.resolve(new Diff([['a', 'a1'], ['zz', 'x']], false, 0n, 1n))));
    await map.freeze();
    expect(await thrown(() => map.setUpdateId(1n))).toBeInstanceOf(KeyNotFoundError);
    expect(map.get('a')).toBe('a0');
    expect(map.has('zz')).toBe(false);
    expect(map.getUpdateId()).toBe(0n);
  });
});

describe('EmptyDiffError', () => {
  it('from DummyRemote, as in the Rust docs example', async () => {
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote: new DummyRemote() });
    map.push('0', 'Message 0');
    await map.freeze();
    expect(await thrown(() => map.setUpdateId(100n))).toBeInstanceOf(EmptyDiffError);
    expect(map.getUpdateId()).toBe(0n);
  });

  it('a diff with ids but no pairs, and applyDiff of one', async () => {
    const map = stringMap(remoteAnswering(() => Promise.resolve(new Diff([], true, 0n, 5n))));
    await map.freeze();
    expect(await thrown(() => map.setUpdateId(5n))).toBeInstanceOf(EmptyDiffError);
    expect(() => map.applyDiff(Diff.empty())).toThrow(EmptyDiffError);
    expect(map.getUpdateId()).toBe(0n);
  });
});

describe('FetchUpdateError', () => {
  it('wraps a failing remote, keeping the cause', async () => {
    const cause = new Error('connection refused');
    const map = stringMap(remoteAnswering(() => Promise.reject(cause)));
    await map.freeze();
    const e = (await thrown(() => map.setUpdateId(3n))) as FetchUpdateError;
    expect(e).toBeInstanceOf(FetchUpdateError);
    expect(e.message).toBe('Error while trying to fetch updates: connection refused');
    expect(e.cause).toBe(cause);
  });

  it('a remote that throws synchronously or answers something other than a Diff', async () => {
    const syncThrow: Remote<string, string> = {
      fetchUpdates: () => {
        throw new Error('sync');
      },
      init: () => Promise.resolve(),
    };
    const a = stringMap(syncThrow);
    await a.freeze();
    expect(await thrown(() => a.setUpdateId(1n))).toBeInstanceOf(FetchUpdateError);
    const b = stringMap(remoteAnswering(() => Promise.resolve({ entries: [] })));
    await b.freeze();
    const e = await thrown(() => b.setUpdateId(1n));
    expect(e).toBeInstanceOf(FetchUpdateError);
    expect((e as Error).message).toMatch(/not a Diff|other than a Diff/);
  });

  it('a diff starting above the current id, with Rust message', async () => {
    const map = stringMap(remoteAnswering(() => Promise.resolve(new Diff([['a', 'a5']], false, 3n, 5n))));
    await map.freeze();
    const e = await thrown(() => map.setUpdateId(5n));
    expect((e as Error).message).toBe(
      'Error while trying to fetch updates: The from update id is not consistent, diff from_update_id: 3, self update_id: 0',
    );
    expect(map.get('a')).toBe('a0');
  });
});

describe('DuplicateKeyError', () => {
  it('a second push of a string key', () => {
    const map = stringMap();
    expect(() => map.push('a', 'other')).toThrow(DuplicateKeyError);
    expect(map.get('a')).toBe('a0');
    expect(map.size).toBe(2);
  });

  it('a second push of equal bytes in another Uint8Array', () => {
    const map = new StateMap({ key: kinds.bytes, value: kinds.bytes });
    map.push(new Uint8Array([1, 2]), new Uint8Array([1]));
    expect(() => map.push(new Uint8Array([1, 2]), new Uint8Array([2]))).toThrow(DuplicateKeyError);
    map.push(new Uint8Array([1, 2, 0]), new Uint8Array([3]));
    expect(map.size).toBe(2);
    expect(map.get(new Uint8Array([1, 2]))).toEqual(new Uint8Array([1]));
  });
});

describe('InitError', () => {
  it('freeze rejects when remote.init fails; the map stays frozen as in Rust', async () => {
    const cause = new Error('server down');
    let calls = 0;
    const map = stringMap({
      fetchUpdates: () => Promise.resolve(Diff.empty()),
      init: () => {
        calls++;
        return Promise.reject(cause);
      },
    });
    const first = map.freeze();
    const e = (await thrown(() => first)) as InitError;
    expect(e).toBeInstanceOf(InitError);
    expect(e.cause).toBe(cause);
    expect(map.isFrozen()).toBe(true);
    expect(map.hash()).toHaveLength(32);
    expect(map.freeze()).toBe(first); // the same settled promise, no second init
    expect(calls).toBe(1);
  });
});

describe('InvalidValueError', () => {
  it('keys and values of the wrong kind', () => {
    const map = new StateMap<any, any>({ key: kinds.string, value: kinds.bytes });
    expect(() => map.push(1, new Uint8Array())).toThrow(InvalidValueError);
    expect(() => map.push('a', 'not bytes')).toThrow(InvalidValueError);
    expect(() => map.push('\ud800', new Uint8Array())).toThrow(/lone|\\ud800/);
    const fixed = new StateMap<any, any>({ key: kinds.fixedBytes(32), value: kinds.string });
    expect(() => fixed.push(new Uint8Array(31), 'v')).toThrow(InvalidValueError);
    fixed.push(new Uint8Array(32), 'v');
    expect(() => fixed.set(new Uint8Array(32), 7)).toThrow(InvalidValueError);
    expect(map.size + fixed.size).toBe(1);
  });

  it('update ids that are not u64 bigints', async () => {
    const map = stringMap();
    await map.freeze();
    expect(() => map.getDiff(-1n, 0n)).toThrow(InvalidValueError);
    expect(() => map.getDiff(0n, U64_MAX + 1n)).toThrow(InvalidValueError);
    expect(() => map.getDiff(0 as unknown as bigint, 1n)).toThrow(InvalidValueError);
    expect(await thrown(() => map.setUpdateId(-5n))).toBeInstanceOf(InvalidValueError);
    expect(() => new Diff([], false, -1n, 0n)).toThrow(InvalidValueError);
    expect(() => new Diff([], false, 0n, 1 as unknown as bigint)).toThrow(InvalidValueError);
  });

  it('setMaster with something other than a boolean', () => {
    expect(() => stringMap().setMaster('yes' as unknown as boolean)).toThrow(InvalidValueError);
  });

  it('a staged value of the wrong kind', () => {
    const map = stringMap();
    expect(() => map.beginModification().set('a', 5 as unknown as string)).toThrow(InvalidValueError);
  });
});

describe('UpdateIdOverflowError', () => {
  it('set and commit at update id 2^64 - 1 (Rust wraps to 0)', async () => {
    const map = stringMap(remoteAnswering(() => Promise.resolve(new Diff([['a', 'top']], false, 0n, U64_MAX))));
    map.setMaster(true);
    await map.freeze();
    await map.setUpdateId(1n);
    expect(map.getUpdateId()).toBe(U64_MAX);
    expect(() => map.set('a', 'x')).toThrow(UpdateIdOverflowError);
    expect(() => map.beginModification().commit()).toThrow(UpdateIdOverflowError);
    expect(map.get('a')).toBe('top');
    expect(map.getUpdateId()).toBe(U64_MAX);
  });
});

describe('ModificationCommittedError', () => {
  it('set or commit after commit', () => {
    const map = stringMap();
    const mods = map.beginModification();
    mods.set('a', 'a1').commit();
    expect(() => mods.set('b', 'b1')).toThrow(ModificationCommittedError);
    expect(() => mods.commit()).toThrow(ModificationCommittedError);
    expect(map.getUpdateId()).toBe(1n);
    expect(map.get('b')).toBe('b0');
  });
});
