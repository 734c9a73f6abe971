/**
 * What stands behind the WebSocket listener: who may connect (authorize),
 * the answer to each request (respond), and map changes for pushes (updateId,
 * follow). `protocolService` makes one from a server's ProtocolHandler; a
 * gateway makes its own (relaying each request to an upstream server).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { FULL_ACCESS, type Access, type Answer, type ProtocolHandler } from '@syncstate-ts/server';

/** What the listener knows of a connection when it authorizes its token. */
export interface PeerInfo {
  /** Remote address and port, for logs. */
  peer: string;
  /** The upgrade request's Origin header (a browser's page), if any. */
  origin: string | undefined;
  /** The upgrade request's path and query. */
  path: string;
}

/**
 * Decides what a connection may do, from the token of its Hello: an Access,
 * or undefined to refuse it (Error unauthorized, close 4401).
 */
export type Authorize = (token: Uint8Array, peer: PeerInfo) => Access | undefined | Promise<Access | undefined>;

export interface WebSocketService {
  authorize: Authorize;
  /**
   * The answer to one RequestWrapper (its password is not checked: `access`
   * stands for it). The listener has already refused what `access.readOnly`
   * and `access.maps` forbid. Rejecting counts as no answer.
   */
  respond(payload: Uint8Array, access: Access, peer: string): Promise<Answer>;
  /** The map's update id now, or undefined when there is no such map (a Subscribe's answer). */
  updateId(hash: Uint8Array): Promise<bigint | undefined>;
  /**
   * Calls `onUpdate` with each new update id of the map until the returned
   * function is called. The listener follows each map once, however many
   * connections subscribe to it.
   */
  follow(hash: Uint8Array, onUpdate: (updateId: bigint) => void): () => void;
}

/** The service of our server: its ProtocolHandler, with `authorize` (default: `passwordAuthorize(password)`). */
export function protocolService<K, V, E>(handler: ProtocolHandler<K, V, E>, authorize: Authorize): WebSocketService {
  return {
    authorize,
    respond: (payload, access, peer) => handler.respondWithAccess(payload, access, peer),
    updateId: (hash) => handler.updateId(hash),
    follow: (hash, onUpdate) => handler.follow(hash, onUpdate),
  };
}

/** Full access for a token equal to `password` (the server's), nothing for any other. */
export function passwordAuthorize(password: string | Uint8Array): Authorize {
  return tokenAuthorize([{ token: password, access: FULL_ACCESS }]);
}

export interface TokenEntry {
  token: string | Uint8Array;
  access: Access;
}

/**
 * Access by a table of tokens (`syncstate serve --tokens FILE` reads one
 * from a file). Tokens are compared by their SHA-256 digests, in constant time.
 */
export function tokenAuthorize(entries: Iterable<TokenEntry>): Authorize {
  const table: Array<{ digest: Buffer; access: Access }> = [];
  for (const { token, access } of entries) table.push({ digest: digest(token), access });
  return (token) => {
    const presented = digest(token);
    let found: Access | undefined;
    // Every entry is compared, so the time does not tell which one matched.
    for (const entry of table) if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.access;
    return found;
  };
}

function digest(token: string | Uint8Array): Buffer {
  return createHash('sha256').update(typeof token === 'string' ? Buffer.from(token, 'utf8') : token).digest();
}
