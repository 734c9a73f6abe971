/**
 * The data folder (default ./.syncstate): what `serve` creates on first run
 * and what the client commands read by default, so that on one machine
 * `syncstate serve` and `syncstate get ...` need no flags at all.
 *
 *   cert.pem   self-signed certificate (DNS localhost, IP 127.0.0.1): the server's
 *              certificate and the clients' only trusted root
 *   key.pem    its private key (mode 0600)
 *   password   the pre-shared password, generated once (mode 0600)
 *   maps.db    the maps, when stored durably (SQLite)
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { displayPath } from './display.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';

export const DEFAULT_DATA_DIR = '.syncstate';
/** The certificate is pinned by its clients, not checked against a CA: a long life avoids surprise outages. */
const CERTIFICATE_DAYS = 3650;

export interface DataPaths {
  dir: string;
  cert: string;
  key: string;
  password: string;
  database: string;
}

export function dataPaths(dir: string): DataPaths {
  const abs = resolve(dir);
  return {
    dir: abs,
    cert: join(abs, 'cert.pem'),
    key: join(abs, 'key.pem'),
    password: join(abs, 'password'),
    database: join(abs, 'maps.db'),
  };
}

/** Creates the data folder if needed; one clear CliError when it cannot be one, or cannot be written. */
export async function ensureDataDir(paths: DataPaths): Promise<void> {
  const shown = displayPath(paths.dir);
  try {
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await access(paths.dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? `${shown} is a file, not a folder (or lies under one)`
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `${shown} is not writable (${code})`
          : `${shown} cannot be used: ${(err as Error).message}`;
    throw new CliError(ExitCode.runtime, `the data folder ${why}: choose another with --data`, { cause: err });
  }
}

export interface TlsFiles {
  cert: string;
  key: string;
  /** True when this call generated the pair. */
  created: boolean;
}

/**
 * Reads the data folder's certificate and key, generating both on first run.
 * `extraIp` (the listen address, when it is a specific IP) is added to the
 * certificate so clients dialing it verify, as Rust clients check the IP they dial.
 */
export async function ensureCertificate(paths: DataPaths, extraIp?: string): Promise<TlsFiles> {
  const cert = await readOptional(paths.cert);
  const key = await readOptional(paths.key);
  if (cert !== undefined && key !== undefined) return { cert, key, created: false };
  if (cert !== undefined || key !== undefined) {
    const [has, lacks] = cert !== undefined ? [paths.cert, paths.key] : [paths.key, paths.cert];
    throw usageError(`found ${has} but not ${lacks}: restore it, or delete ${has} to generate a new certificate`);
  }
  const ipAddresses = ['127.0.0.1'];
  if (extraIp !== undefined && isIP(extraIp) !== 0 && !['127.0.0.1', '0.0.0.0', '::'].includes(extraIp)) {
    ipAddresses.push(extraIp);
  }
  const pair = await createSelfSignedCertificate({ dnsNames: ['localhost'], ipAddresses, days: CERTIFICATE_DAYS });
  // 'wx': never overwrite a pair another process wrote meanwhile.
  await writeFile(paths.key, pair.key, { mode: 0o600, flag: 'wx' });
  await writeFile(paths.cert, pair.cert, { mode: 0o644, flag: 'wx' });
  return { ...pair, created: true };
}

/** Reads a PEM file given on the command line, with a message naming the flag. */
export async function readPemFile(path: string, flag: string): Promise<string> {
  const text = await readOptional(path);
  if (text === undefined) throw usageError(`${flag} ${path}: no such file`);
  return text;
}

/** Days until the certificate expires (negative once it has), or undefined if it does not parse. */
export function certificateDaysLeft(pem: string): number | undefined {
  try {
    return (Date.parse(new X509Certificate(pem).validTo) - Date.now()) / 86_400_000;
  } catch {
    return undefined;
  }
}

export type PasswordSource = 'environment' | 'file' | 'generated';

export interface Password {
  value: string;
  source: PasswordSource;
  /** The file it was read from or written to. */
  path?: string;
}

/**
 * The server's password: SYNCSTATE_PASSWORD, else the given file, else the
 * data folder's file, generated once (32 random bytes, base64url).
 */
export async function ensurePassword(paths: DataPaths, options: { env?: string | undefined; file?: string | undefined }): Promise<Password> {
  if (options.env !== undefined && options.env !== '') return { value: options.env, source: 'environment' };
  if (options.file !== undefined) return { value: await readPasswordFile(options.file, '--password-file'), source: 'file', path: resolve(options.file) };
  const existing = await readOptional(paths.password);
  if (existing !== undefined) return { value: checkPassword(stripNewline(existing), paths.password), source: 'file', path: paths.password };
  const value = randomBytes(32).toString('base64url');
  await writeFile(paths.password, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, source: 'generated', path: paths.password };
}

export async function readPasswordFile(path: string, what: string): Promise<string> {
  const text = await readOptional(path);
  if (text === undefined) throw usageError(`${what} ${path}: no such file`);
  return checkPassword(stripNewline(text), path);
}

function checkPassword(value: string, path: string): string {
  if (value === '') throw usageError(`${path} is empty: write the password in it, or delete it to generate one`);
  return value;
}

// Files edited by hand usually end with a newline that is not part of the password.
function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw usageError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
