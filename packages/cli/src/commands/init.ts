/**
 * `syncstate init <file.json>`: creates the map on the server (or finds it
 * there) and prints its hash, the name every other command takes.
 */
import { toHex } from '@syncstate-ts/codec';
import { encodeInitData } from '@syncstate-ts/core';
import { HashNotFoundError, RemoteError } from '@syncstate-ts/remote';
import { connect, type ConnectionFlags } from '../connection.js';
import { countOf, displayPath, formatBytes } from '../display.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { buildMap, mapFileSize, PROGRESS_FILE_BYTES, readMapFile } from '../map-file.js';
import { Progress } from '../progress.js';
import type { CommandIo } from './io.js';

export async function initCommand(file: string, flags: ConnectionFlags & { progress?: boolean }, io: CommandIo): Promise<void> {
  const size = await mapFileSize(file);
  const remote = await connect(flags, io.env);
  const progress = new Progress(io.err, flags.progress ?? size >= PROGRESS_FILE_BYTES);
  progress.step(`reading ${displayPath(file)} (${formatBytes(size)})`);
  // With a progress line, the summary ends it (with the time taken).
  const report = (text: string): void => {
    if (progress.enabled) progress.done(text);
    else io.err.write(`${text}\n`);
  };
  try {
    const pairs = await readMapFile(file, progress);
    const map = await buildMap(pairs, displayPath(file), progress);
    const hash = map.hash()!;

    let existing: bigint | undefined;
    try {
      existing = await remote.getUpdateId(hash);
    } catch (err) {
      if (!(err instanceof HashNotFoundError)) throw err;
    }
    if (existing !== undefined) {
      report(`the server already has this map (${countOf(map.size, 'key')}, update id ${existing})`);
    } else {
      const initData = encodeInitData(map);
      progress.step(`sending ${formatBytes(initData.length)} to ${remote.host}:${remote.port}`);
      try {
        await remote.sendInit(hash, initData);
      } catch (err) {
        throw explainInitFailure(err, initData.length);
      }
      report(`created map with ${countOf(map.size, 'key')}`);
    }
    io.out.write(`${toHex(hash)}\n`);
  } catch (err) {
    progress.abort();
    throw err;
  }
}

/** A server hanging up on a big Init most likely refused its size. */
function explainInitFailure(err: unknown, bytes: number): unknown {
  if (err instanceof RemoteError && err.code === 'connection-closed' && bytes > 64 * 1024) {
    return new CliError(
      ExitCode.runtime,
      `the server closed the connection without answering the ${formatBytes(bytes)} init request: probably above its maximum request size (see syncstate serve --max-frame-size)`,
      { cause: err },
    );
  }
  return err;
}
