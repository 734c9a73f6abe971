/**
 * `syncstate status [map...]`: is the server reachable, does it take our
 * password, and each named map's update id. Exit code 0 only if all is well.
 */
import { HASH_LENGTH } from '@syncstate-ts/codec';
import { HashNotFoundError } from '@syncstate-ts/remote';
import { connect, type ConnectionFlags } from '../connection.js';
import { describeError } from '../describe-error.js';
import { ExitCode, CliError } from '../exit-codes.js';
import { resolveMapRef } from '../map-ref.js';
import type { CommandIo } from './io.js';

export async function statusCommand(maps: readonly string[], flags: ConnectionFlags, io: CommandIo): Promise<void> {
  const remote = await connect(flags, io.env);
  const refs = await Promise.all(maps.map((m) => resolveMapRef(m)));
  const where = `${remote.host}:${remote.port}`;

  // Any hash will do: the answer (UpdateId or HashNotFound) proves TLS and the password work.
  const started = performance.now();
  const probe = await remote.request({ type: 'GetUpdateId', hash: new Uint8Array(HASH_LENGTH) }).catch((err: unknown) => {
    throw new CliError(describeError(err).exitCode, `server ${where}: ${describeError(err).message}`, { cause: err });
  });
  const ms = performance.now() - started;
  if (probe.type === 'IncorrectPassword') {
    throw new CliError(ExitCode.auth, `server ${where} is up, but it rejected the password`);
  }
  io.out.write(`server ${where}: up, password accepted (${ms.toFixed(0)} ms)\n`);

  let missing = 0;
  for (const ref of refs) {
    try {
      const id = await remote.getUpdateId(ref.hash);
      io.out.write(`map ${ref.hashHex}: update id ${id}\n`);
    } catch (err) {
      if (!(err instanceof HashNotFoundError)) throw err;
      io.out.write(`map ${ref.hashHex}: not on the server\n`);
      missing++;
    }
  }
  if (missing > 0) throw new CliError(ExitCode.notFound, `${missing} of ${refs.length} maps not found`);
}
