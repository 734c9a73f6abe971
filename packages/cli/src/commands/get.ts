/**
 * `syncstate get <map> [key]`: one value (printed as is), or the whole map
 * as a JSON object ordered by key.
 */
import { connect, type ConnectionFlags } from '../connection.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { resolveMapRef } from '../map-ref.js';
import { fetchSnapshot, sortedPairs } from '../snapshot.js';
import type { CommandIo } from './io.js';

export async function getCommand(mapArg: string, key: string | undefined, flags: ConnectionFlags, io: CommandIo): Promise<void> {
  const remote = await connect(flags, io.env);
  const ref = await resolveMapRef(mapArg);
  const snapshot = await fetchSnapshot(remote, ref.hash);
  if (key === undefined) {
    io.out.write(`${JSON.stringify(Object.fromEntries(sortedPairs(snapshot.pairs)), null, 2)}\n`);
    return;
  }
  const value = snapshot.pairs.get(key);
  if (value === undefined) throw new CliError(ExitCode.notFound, `the map has no key ${JSON.stringify(key)}`);
  io.out.write(`${value}\n`);
}
