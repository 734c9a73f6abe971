/**
 * `syncstate backup <file>` and `syncstate restore <file>`: a copy of the
 * data folder's maps.db, and putting one back.
 *
 * backup: from the running server (asked through its control socket,
 * control.ts: it holds maps.db locked and copies it between its requests),
 * or from the file itself when no server runs. The copy is consistent: the
 * database at one commit.
 *
 * restore: only while no server uses the data folder (its control socket
 * answers, or maps.db's lock is held: both refuse), only over maps with
 * --force, and only a backup that opens as a map store of ours with every
 * map readable. storage-sqlite's restoreSqliteStore does the replacing.
 */
import { existsSync, statSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { kinds } from '@syncstate-ts/core';
import { backupSqliteStore, restoreSqliteStore, StorageError, type BackupResult } from '@syncstate-ts/storage-sqlite';
import { askServer, controlSocketPath } from '../control.js';
import { type DataPaths, dataPaths, DEFAULT_DATA_DIR, ensureDataDir } from '../data-dir.js';
import { countOf, displayPath, formatBytes } from '../display.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import type { CommandIo } from './io.js';

const EXIT_CODES = `Exit codes:
  0  done
  1  refused or failed: the file exists (backup) or the data folder holds maps (restore)
     without --force, a server is using the data folder (restore), a write failed
  2  usage: bad flag, no such file, a file that is not a usable backup (restore)
  5  a server holds maps.db but its control socket does not answer (backup)`;

/** Adds `backup` and `restore` to the program. */
export function addBackupCommands(program: Command, io: CommandIo): void {
  program
    .command('backup')
    .argument('<file>', 'where to write the copy (an SQLite file)')
    .summary('copy the data folder\'s maps (maps.db), also while the server serves them')
    .description(
      "Write a consistent copy of the data folder's maps.db (every map, its update id and history) to <file>. " +
        'While `syncstate serve` runs on the folder, the server makes the copy between its requests and keeps serving; ' +
        'otherwise the file is copied directly. The copy never replaces <file> half written. ' +
        'It holds the maps only: keep cert.pem, key.pem and password yourself.',
    )
    .addOption(new Option('--force', 'replace <file> if it exists'))
    .addOption(dataOption())
    .addHelpText('after', `\n${EXIT_CODES}\n`)
    .action((file: string, opts: { data: string; force?: boolean }) => backupCommand(file, { data: opts.data, force: opts.force === true }, io));

  program
    .command('restore')
    .argument('<file>', 'a copy written by `syncstate backup`')
    .summary('put a backup in place of the data folder\'s maps (no server may be running on it)')
    .description(
      "Replace the data folder's maps.db with <file>, after checking that it is a map store of a known schema version " +
        'whose every map reads back. Refused while a server uses the data folder, and over existing maps unless --force. ' +
        'A server started afterwards serves every map of the backup with its update ids and history. ' +
        'Creates the data folder if needed (serve then makes a certificate and password in it).',
    )
    .addOption(new Option('--force', 'replace the maps the data folder holds'))
    .addOption(dataOption())
    .addHelpText('after', `\n${EXIT_CODES}\n`)
    .action((file: string, opts: { data: string; force?: boolean }) => restoreCommand(file, { data: opts.data, force: opts.force === true }, io));
}

function dataOption(): Option {
  return new Option('-d, --data <folder>', 'data folder (its maps.db)').env('SYNCSTATE_DATA').default(DEFAULT_DATA_DIR);
}

export interface BackupFlags {
  data: string;
  force: boolean;
}

export async function backupCommand(file: string, flags: BackupFlags, io: CommandIo): Promise<void> {
  const paths = dataPaths(flags.data);
  const target = resolve(file);
  checkTarget(target, paths, flags.force);
  const progress = progressLine(io);
  const asked = await askServer(paths, { op: 'backup', to: target }, progress.update).catch((err: unknown) => {
    throw new CliError(ExitCode.runtime, `cannot ask the server through ${displayPath(controlSocketPath(paths))}: ${(err as Error).message}`, { cause: err });
  });
  progress.done();
  let result: BackupResult;
  let how: string;
  if ('answered' in asked) {
    const a = asked.answered;
    if (!a.ok) throw new CliError(ExitCode.runtime, `the server could not write the backup: ${a.message}`);
    if (!('maps' in a)) throw new CliError(ExitCode.runtime, 'the server answered something other than a backup');
    result = a;
    how = 'online, from the running server';
  } else {
    result = await backupFile(paths);
    how = 'from the file: no server is running on the data folder';
  }
  io.out.write(`backup ${displayPath(result.path)}: ${countOf(result.maps, 'map')}, ${formatBytes(result.bytes)}\n`);
  io.err.write(`copied ${displayPath(paths.database)} ${how}\n`);

  async function backupFile(p: DataPaths): Promise<BackupResult> {
    if (!existsSync(p.database)) {
      throw usageError(`${displayPath(p.database)} does not exist: no maps to back up (is --data the server's data folder?)`);
    }
    try {
      return await backupSqliteStore(p.database, target);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      if (err.code === 'locked') {
        throw new CliError(
          ExitCode.connection,
          `${displayPath(p.database)} is in use by a server that does not answer on ${displayPath(controlSocketPath(p))} ` +
            '(started by an older syncstate, or its --data path is too long for a socket): stop it and back up again, or upgrade it',
          { cause: err },
        );
      }
      throw new CliError(ExitCode.runtime, `cannot back up ${displayPath(p.database)}: ${err.message}`, { cause: err });
    }
  }
}

/** The target's folder must exist; an existing file is replaced only with --force, and never maps.db itself. */
function checkTarget(target: string, paths: DataPaths, force: boolean): void {
  if (target === paths.database) throw usageError(`${displayPath(target)} is the data folder's maps.db itself: write the backup elsewhere`);
  if (!existsSync(dirname(target))) throw usageError(`cannot write ${displayPath(target)}: the folder ${displayPath(dirname(target))} does not exist`);
  if (!existsSync(target)) return;
  if (statSync(target).isDirectory()) throw usageError(`${displayPath(target)} is a folder: give a file name`);
  if (!force) throw new CliError(ExitCode.runtime, `${displayPath(target)} exists: add --force to replace it`);
}

export async function restoreCommand(file: string, flags: BackupFlags, io: CommandIo): Promise<void> {
  const from = resolve(file);
  if (!existsSync(from)) throw usageError(`${displayPath(from)}: no such file`);
  if (statSync(from).isDirectory()) throw usageError(`${displayPath(from)} is a folder, not a backup file`);
  const paths = dataPaths(flags.data);
  const created = !existsSync(paths.dir);
  await ensureDataDir(paths);
  try {
    await restoreInto(from, paths, flags.force, io);
  } catch (err) {
    // A folder made for this restore goes again with it (rmdir: only while empty).
    if (created) await rmdir(paths.dir).catch(() => {});
    throw err;
  }
}

async function restoreInto(from: string, paths: DataPaths, force: boolean, io: CommandIo): Promise<void> {
  // A server on the folder answers its control socket; one that does not (an older version) still holds maps.db's lock,
  // which restoreSqliteStore takes before touching anything.
  const asked = await askServer(paths, { op: 'ping' }).catch(() => undefined);
  if (asked !== undefined && 'answered' in asked && asked.answered.ok && 'pid' in asked.answered) {
    throw new CliError(ExitCode.runtime, `a server (pid ${asked.answered.pid}) is serving ${displayPath(paths.dir)}: stop it, then restore`);
  }
  let restored;
  try {
    restored = await restoreSqliteStore({ from, to: paths.database, key: kinds.string, value: kinds.string, replace: force });
  } catch (err) {
    throw restoreError(err, from, paths);
  }
  for (const map of restored.maps) io.out.write(`map ${map.hash}: update id ${map.updateId}\n`);
  const over = { nothing: '', 'empty-store': ' (it held no maps)', store: ' (its maps were replaced)', 'other-file': ' (replacing a file that was not a map store)' }[
    restored.replaced
  ];
  io.err.write(`restored ${countOf(restored.maps.length, 'map')} from ${displayPath(from)} into ${displayPath(paths.database)}${over}\n`);
}

function restoreError(err: unknown, from: string, paths: DataPaths): unknown {
  if (!(err instanceof StorageError)) return err;
  const db = displayPath(paths.database);
  switch (err.code) {
    case 'locked':
      return new CliError(ExitCode.runtime, `${db} is in use by another process (a syncstate serve on ${displayPath(paths.dir)}?): stop it, then restore`, {
        cause: err,
      });
    case 'not-empty':
      return new CliError(
        ExitCode.runtime,
        `${err.message.replace(paths.database, db).replace(/; .*$/, '')}: add --force to replace ${/holds/.test(err.message) ? 'them' : 'it'} with the backup`,
        { cause: err },
      );
    case 'not-sqlite':
    case 'foreign-database':
    case 'corrupt':
    case 'newer-schema':
    case 'kind-mismatch':
      return usageError(`${displayPath(from)} is not a usable backup (nothing was changed): ${err.message}`, { cause: err });
    default:
      return new CliError(ExitCode.runtime, `cannot restore into ${db}: ${err.message}`, { cause: err });
  }
}

/** "copying maps.db: 40%" on a terminal's stderr, redrawn in place; nothing elsewhere. */
function progressLine(io: CommandIo): { update: (copied: number, total: number) => void; done: () => void } {
  let shown = false;
  return {
    update: (copied, total) => {
      if (io.err.isTTY !== true || total === 0) return;
      shown = true;
      io.err.write(`\rcopying maps.db: ${Math.floor((100 * copied) / total)}%`);
    },
    done: () => {
      if (shown) io.err.write('\r\x1b[K');
    },
  };
}
