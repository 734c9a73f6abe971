/**
 * `syncstate set <map> key=value [key=value...]`: sends the built-in event
 * (one pair: Set, several: SetMany, applied as one update) and waits until
 * the map's update id moves, so that a `get` right after sees the change.
 * Events are answered before the server's hooks run, which is why the
 * outcome is read back rather than taken from the answer.
 */
import { Event } from '@syncstate-ts/core';
import { connect, type ConnectionFlags } from '../connection.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { kvEvent, type KvEvent } from '../kv.js';
import { resolveMapRef } from '../map-ref.js';
import { fetchSnapshot } from '../snapshot.js';
import { sleep } from '../sleep.js';
import type { CommandIo } from './io.js';

export interface SetFlags extends ConnectionFlags {
  /** How long to wait for the change to show, in ms; 0: do not wait. */
  wait: number;
}

const POLL_MS = 50;

export function parseAssignments(args: readonly string[]): Array<[string, string]> {
  if (args.length === 0) throw usageError('give at least one key=value');
  return args.map((arg) => {
    const at = arg.indexOf('=');
    if (at <= 0) throw usageError(`${JSON.stringify(arg)} is not key=value (the key ends at the first "=")`);
    return [arg.slice(0, at), arg.slice(at + 1)];
  });
}

export async function setCommand(mapArg: string, assignments: readonly string[], flags: SetFlags, io: CommandIo): Promise<void> {
  const pairs = parseAssignments(assignments);
  const remote = await connect(flags, io.env);
  const ref = await resolveMapRef(mapArg);
  if (ref.keys !== undefined) {
    const unknown = pairs.filter(([k]) => !ref.keys!.has(k)).map(([k]) => k);
    if (unknown.length > 0) throw missingKeys(unknown);
  }
  const before = await remote.getUpdateId(ref.hash);
  const event: KvEvent = pairs.length === 1 ? { type: 'Set', value: pairs[0]! } : { type: 'SetMany', value: pairs };
  await remote.sendEvent(new Event(kvEvent, event), ref.hash);
  const what = pairs.map(([k]) => k).join(', ');
  if (flags.wait <= 0) {
    io.err.write(`sent: ${what} (not waiting for the server to apply it)\n`);
    return;
  }

  const deadline = Date.now() + flags.wait;
  for (;;) {
    const now = await remote.getUpdateId(ref.hash, io.signal ? { signal: io.signal } : {});
    if (now > before) {
      io.err.write(`set ${what}: update id ${now}\n`);
      return;
    }
    if (Date.now() >= deadline) break;
    await sleep(POLL_MS, io.signal);
  }
  // Not applied: say why when we can tell.
  const snapshot = await fetchSnapshot(remote, ref.hash);
  const unknown = pairs.filter(([k]) => !snapshot.pairs.has(k)).map(([k]) => k);
  if (unknown.length > 0) throw missingKeys(unknown);
  throw new CliError(
    ExitCode.runtime,
    `the server accepted the event but the map did not change within ${flags.wait} ms: its hooks may have refused it (see the server's log)`,
  );
}

function missingKeys(keys: string[]): CliError {
  const list = keys.map((k) => JSON.stringify(k)).join(', ');
  return new CliError(
    ExitCode.notFound,
    `the map has no key ${list}: a map's keys are fixed when it is created (make a new map with syncstate init)`,
  );
}
