/**
 * `syncstate watch <map> [key...]`: prints each change as it arrives, until
 * Ctrl-C (or --count changes). Polls the update id and fetches only the diff
 * since the last one seen. Network failures are retried with backoff and
 * jitter (retryDelay of @syncstate-ts/remote, as its watch does); a map
 * that disappears (a server restarted with --memory) ends the watch.
 */
import { ConnectionClosedError, ConnectionError, retryDelay, TimeoutError } from '@syncstate-ts/remote';
import { connect, type ConnectionFlags, type Remote } from '../connection.js';
import { describeError } from '../describe-error.js';
import { countOf } from '../display.js';
import { resolveMapRef } from '../map-ref.js';
import { fetchSnapshot, type Snapshot } from '../snapshot.js';
import { sleep } from '../sleep.js';
import type { CommandIo } from './io.js';

export interface WatchFlags extends ConnectionFlags {
  intervalMs: number;
  json: boolean;
  /** Stop after this many changes (printed lines); undefined: until interrupted. */
  count?: number;
}

export interface ChangeLine {
  updateId: bigint;
  key: string;
  value: string;
  previous: string | undefined;
}

const MAX_BACKOFF_MS = 30_000;

export async function watchCommand(mapArg: string, keys: readonly string[], flags: WatchFlags, io: CommandIo): Promise<void> {
  const remote = await connect(flags, io.env);
  const ref = await resolveMapRef(mapArg);
  const { signal } = io;
  const call = signal ? { signal } : {};
  const only = keys.length > 0 ? new Set(keys) : undefined;
  let state: Snapshot = await fetchSnapshot(remote, ref.hash, call);
  io.err.write(
    `watching map ${ref.hashHex} from update id ${state.updateId} (${countOf(state.pairs.size, 'key')}); Ctrl-C stops\n`,
  );

  let printed = 0;
  let failures = 0;
  const print = (change: ChangeLine): boolean => {
    if (only !== undefined && !only.has(change.key)) return false;
    io.out.write(`${flags.json ? jsonLine(change) : textLine(change)}\n`);
    printed++;
    return flags.count !== undefined && printed >= flags.count;
  };

  while (!isAborted(signal)) {
    let changes: ChangeLine[];
    try {
      const next = await poll(remote, ref.hash, state, call);
      changes = next.changes;
      state = next.state;
      if (failures > 0) io.err.write('reconnected\n');
      failures = 0;
    } catch (err) {
      if (isAborted(signal)) return;
      if (!isRetryable(err)) throw err;
      failures++;
      const pause = retryDelay(failures, {
        intervalMs: flags.intervalMs,
        maxBackoffMs: MAX_BACKOFF_MS,
        ...(io.random !== undefined ? { random: io.random } : {}),
      });
      io.err.write(`${describeError(err).message}; retrying in ${(pause / 1000).toFixed(2)} s\n`);
      await sleep(pause, signal);
      continue;
    }
    for (const change of changes) if (print(change)) return;
    await sleep(flags.intervalMs, signal);
  }
}

/** One round: the changes since `state`, and the new state. */
async function poll(
  remote: Remote,
  hash: Uint8Array,
  state: Snapshot,
  call: { signal?: AbortSignal },
): Promise<{ changes: ChangeLine[]; state: Snapshot }> {
  const latest = await remote.getUpdateId(hash, call);
  if (latest === state.updateId) return { changes: [], state };
  let entries: ReadonlyArray<readonly [string, string]>;
  let upto: bigint;
  if (latest > state.updateId) {
    const diff = await remote.fetchUpdates(state.updateId, latest, hash, call);
    entries = diff.entries;
    upto = diff.uptoUpdateId > state.updateId ? diff.uptoUpdateId : latest;
  } else {
    // The server's id went back: it lost the map's history (restarted in memory); start over from its state.
    const fresh = await fetchSnapshot(remote, hash, call);
    entries = [...fresh.pairs];
    upto = fresh.updateId;
  }
  const pairs = new Map(state.pairs);
  const changes: ChangeLine[] = [];
  for (const [key, value] of entries) {
    const previous = pairs.get(key);
    if (previous === value) continue;
    pairs.set(key, value);
    changes.push({ updateId: upto, key, value, previous });
  }
  return { changes, state: { updateId: upto, pairs } };
}

// A function, not an inline check: TS would narrow `aborted` across the awaits.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TimeoutError) return true;
  // A hang-up before any byte may be a restart in progress.
  return err instanceof ConnectionClosedError && err.bytesReceived === 0;
}

function textLine(c: ChangeLine): string {
  const was = c.previous === undefined ? '' : ` (was ${JSON.stringify(c.previous)})`;
  return `update ${c.updateId}: ${c.key} = ${JSON.stringify(c.value)}${was}`;
}

function jsonLine(c: ChangeLine): string {
  return JSON.stringify({ updateId: c.updateId.toString(), key: c.key, value: c.value, previous: c.previous ?? null });
}
