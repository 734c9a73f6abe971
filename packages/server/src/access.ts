/**
 * What a connection authorized by a token may do, instead of the password
 * that TLS requests carry (docs/protocol.md, "WebSocket carrier"). A browser
 * never holds the server's password: an `authorize` hook turns its token
 * into an Access, and every request of the connection is checked against it.
 */
import { toHex } from '@syncstate-ts/codec';

export interface Access {
  /** Refuse Event and Init: the peer may only read (GetUpdateId, GetDiff) and subscribe. */
  readonly readOnly: boolean;
  /** The maps (hashes in lowercase hex) the peer may use; undefined: every map. */
  readonly maps?: ReadonlySet<string> | undefined;
  /**
   * The event variants (names of an enum event schema, `t.enumOf`) the peer
   * may send; undefined: every event. Checked after the event decodes, so
   * only where the schema is known (our server, not a relay).
   */
  readonly events?: ReadonlySet<string> | undefined;
}

/** Everything, as the password gives on TLS. */
export const FULL_ACCESS: Access = Object.freeze({ readOnly: false });

/** Read only, every map. */
export const READ_ONLY_ACCESS: Access = Object.freeze({ readOnly: true });

/**
 * Why `access` refuses a request of this type for this map, or undefined
 * when it allows it. (Event variants are checked later, once decoded.)
 */
export function accessRefusal(access: Access, type: 'GetUpdateId' | 'GetDiff' | 'Event' | 'Init' | 'Subscribe', hash: Uint8Array): string | undefined {
  if (access.readOnly && (type === 'Event' || type === 'Init')) return `${type} refused: this connection is read only`;
  if (access.maps !== undefined && !access.maps.has(toHex(hash))) return `${type} refused: this connection may not use map ${toHex(hash)}`;
  return undefined;
}

/** The variant name of an enum event (`{ type: 'Set', value }`), undefined for other event shapes. */
export function eventVariant(event: unknown): string | undefined {
  if (typeof event === 'object' && event !== null && typeof (event as { type?: unknown }).type === 'string') {
    return (event as { type: string }).type;
  }
  return undefined;
}
