/**
 * A map as a JSON file of string pairs, `{"color": "red", "size": "10"}`:
 * what `init` sends, and a way to name a map without copying its hash.
 */
import { readFile, stat } from 'node:fs/promises';
import { visit } from 'jsonc-parser';
import { DummyRemote, kinds, StateMap } from '@syncstate-ts/core';
import { displayPath, formatCount } from './display.js';
import { usageError } from './exit-codes.js';
import type { Progress } from './progress.js';

/** Files from this size on show a progress line while being read, hashed and sent. */
export const PROGRESS_FILE_BYTES = 1 << 20;

export async function mapFileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw usageError(`${displayPath(path)}: ${noFile(err)}`, { cause: err });
  }
}

/** Reads and checks the file; the pairs in file order. */
export async function readMapFile(path: string, progress?: Progress): Promise<Array<[string, string]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usageError(`${displayPath(path)}: ${noFile(err)}`, { cause: err });
  }
  progress?.step('parsing JSON');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw usageError(`${displayPath(path)} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw usageError(`${displayPath(path)} must hold one JSON object of string pairs, like {"color": "red"}`);
  }
  const pairs = Object.entries(json as Record<string, unknown>);
  // JSON.parse keeps the last of repeated keys; a map file with one is refused rather than half used.
  if (topLevelMembers(text) !== pairs.length) {
    throw usageError(`${displayPath(path)} repeats the key${repeatedKeys(text).map((k) => ` ${JSON.stringify(k)}`).join(',')}; each key may appear once`);
  }
  for (const [key, value] of pairs) {
    if (typeof value !== 'string') {
      const shown = JSON.stringify(value) ?? String(value);
      throw usageError(
        `${displayPath(path)}: the value of ${JSON.stringify(key)} is ${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}; values must be strings (write ${JSON.stringify(JSON.stringify(value) ?? '')})`,
      );
    }
  }
  return pairs as Array<[string, string]>;
}

/** A frozen map of the pairs: its hash names it on the server. Nothing is sent. */
export async function buildMap(pairs: Array<[string, string]>, source: string, progress?: Progress): Promise<StateMap<string, string>> {
  const map = new StateMap({ key: kinds.string, value: kinds.string, remote: new DummyRemote<string, string>() });
  for (let i = 0; i < pairs.length; i++) {
    const [key, value] = pairs[i]!;
    try {
      map.push(key, value);
    } catch (err) {
      throw usageError(`${source}: cannot use the pair ${JSON.stringify(key)}: ${(err as Error).message}`, { cause: err });
    }
    if ((i & 0xffff) === 0) progress?.count('loading pairs', i, pairs.length);
  }
  progress?.count('loading pairs', pairs.length, pairs.length);
  progress?.step(`hashing ${formatCount(pairs.length)} pairs`);
  await map.freeze();
  return map;
}

/**
 * How many members the top-level object of valid JSON `text` has, repeats
 * included: its commas outside strings and nested values, plus one. A plain
 * scan (strings and brackets only; JSON.parse has checked the rest), so a
 * file of a million pairs costs a fraction of its parse.
 */
function topLevelMembers(text: string): number {
  let depth = 0;
  let members = 0;
  let empty = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote, over escapes
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      if (depth === 1) empty = false;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 2) empty = false;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      members++;
    } else if (depth === 1 && c > 0x20) {
      empty = false;
    }
  }
  return empty ? 0 : members + 1;
}

/** The top-level keys of `text` that appear more than once (jsonc-parser's scanner). */
function repeatedKeys(text: string): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  let depth = 0;
  visit(text, {
    onObjectBegin: () => void depth++,
    onObjectEnd: () => void depth--,
    onArrayBegin: () => void depth++,
    onArrayEnd: () => void depth--,
    onObjectProperty: (key) => {
      if (depth !== 1) return;
      if (seen.has(key)) repeated.add(key);
      seen.add(key);
    },
  });
  return [...repeated];
}

function noFile(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not a JSON file';
  return (err as Error).message;
}
