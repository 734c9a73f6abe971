/**
 * The tokens file of `syncstate serve --tokens FILE`: one token per line,
 * with what it allows.
 *
 *     # TOKEN            ACCESS  [MAP HASH ...]  [events=NAME,NAME]
 *     reader-5f1c2a8e    read
 *     editor-91b0d4c7    write   61a1566cc5abb474…(64 hex digits)  events=Set
 *
 * ACCESS is `read` (GetUpdateId, GetDiff, Subscribe) or `write` (also Event
 * and Init). Map hashes limit the token to those maps; `events=` to those
 * event variants. Blank lines and lines starting with # are ignored.
 */
import { SyncstateError } from '@syncstate-ts/codec';
import type { Access } from '@syncstate-ts/server';
import type { TokenEntry } from './service.js';

export interface TokenFileEntry extends TokenEntry {
  token: string;
  /** Line number in the file, for messages. */
  line: number;
}

/** A tokens file that does not parse; `line` is 1-based. */
export class TokenFileError extends SyncstateError<'invalid-token-file'> {
  override name = 'TokenFileError';
  readonly line: number;
  constructor(line: number, message: string) {
    super('invalid-token-file', `line ${line}: ${message}`);
    this.line = line;
  }
}

/** Shortest token accepted: a guessable token is a password anyone has. */
export const MIN_TOKEN_LENGTH = 12;

export function parseTokens(text: string): TokenFileEntry[] {
  const entries: TokenFileEntry[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) continue;
    const [token, access, ...rest] = content.split(/\s+/) as [string, string | undefined, ...string[]];
    if (token.length < MIN_TOKEN_LENGTH) throw new TokenFileError(line, `a token needs at least ${MIN_TOKEN_LENGTH} characters`);
    if (seen.has(token)) throw new TokenFileError(line, 'this token is already listed');
    seen.add(token);
    if (access !== 'read' && access !== 'write') throw new TokenFileError(line, `access must be "read" or "write", got ${JSON.stringify(access ?? '')}`);
    const maps = new Set<string>();
    let events: Set<string> | undefined;
    for (const item of rest) {
      if (item.startsWith('events=')) {
        if (events !== undefined) throw new TokenFileError(line, 'events= given twice');
        events = new Set(item.slice('events='.length).split(',').filter((name) => name !== ''));
        if (events.size === 0) throw new TokenFileError(line, 'events= lists no event');
      } else if (/^[0-9a-fA-F]{64}$/.test(item)) {
        maps.add(item.toLowerCase());
      } else {
        throw new TokenFileError(line, `${JSON.stringify(item)} is neither a map hash (64 hex digits) nor events=NAME,…`);
      }
    }
    const grant: Access = {
      readOnly: access === 'read',
      ...(maps.size > 0 ? { maps } : {}),
      ...(events !== undefined ? { events } : {}),
    };
    entries.push({ token, access: grant, line });
  }
  return entries;
}
