/**
 * Connection settings of the client commands, each from its flag, its
 * environment variable, or the data folder `serve` created (so on the
 * server's machine no flag is needed), and the remote built from them.
 */
import { readFile } from 'node:fs/promises';
import { kinds } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { dataPaths, readPasswordFile } from './data-dir.js';
import { displayPath } from './display.js';
import { usageError } from './exit-codes.js';

export const DEFAULT_PORT = 7878;
export const DEFAULT_ADDRESS = `127.0.0.1:${DEFAULT_PORT}`;

export interface ConnectionFlags {
  data: string;
  address: string;
  ca?: string;
  passwordFile?: string;
}

export type Remote = TcpStateRemote<string, string>;

export async function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Remote> {
  const { ca, password } = await connectionSecrets(flags, env);
  try {
    return new TcpStateRemote({ address: flags.address, tls: { ca }, password, key: kinds.string, value: kinds.string });
  } catch (err) {
    throw usageError(`--address: ${(err as Error).message}`, { cause: err });
  }
}

/** The server's certificate and password, from the flags, the environment or the data folder (see the module comment). */
export async function connectionSecrets(flags: Omit<ConnectionFlags, 'address'>, env: NodeJS.ProcessEnv): Promise<{ ca: string; password: string }> {
  const paths = dataPaths(flags.data);
  const caPath = flags.ca ?? paths.cert;
  let ca: string;
  try {
    ca = await readFile(caPath, 'utf8');
  } catch (err) {
    const hint =
      flags.ca === undefined
        ? `: run \`syncstate serve\` in this folder first, or give the server's certificate with --ca (or SYNCSTATE_CA)`
        : '';
    throw usageError(`cannot read the server's certificate ${displayPath(caPath)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})${hint}`, { cause: err });
  }

  let password: string;
  if (env.SYNCSTATE_PASSWORD !== undefined && env.SYNCSTATE_PASSWORD !== '') password = env.SYNCSTATE_PASSWORD;
  else if (flags.passwordFile !== undefined) password = await readPasswordFile(flags.passwordFile, '--password-file');
  else {
    try {
      password = await readPasswordFile(paths.password, 'password file');
    } catch (err) {
      throw usageError(
        `no password: set SYNCSTATE_PASSWORD, give --password-file, or run this where \`syncstate serve\` keeps its data (${displayPath(paths.dir)})`,
        { cause: err },
      );
    }
  }

  return { ca, password };
}
