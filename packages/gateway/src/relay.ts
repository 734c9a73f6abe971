/**
 * One browser request, relayed: the RequestWrapper a WebSocket peer sent is
 * decoded (bounded, as our server decodes it), checked against the
 * connection's Access, and sent upstream as one TLS request carrying the
 * gateway's password instead of the peer's. The upstream's answer goes back
 * as it came (a Response; see Relay.respond for the exceptions).
 *
 * The Rust server (docs/protocol.md, "Defects of the Rust server") is
 * guarded where a relay can see the danger coming:
 * - GetDiff with upto < from: it panics holding its server-wide mutex when
 *   `from` lies inside the history, and then serves nobody. Sent upstream as
 *   GetDiff(from, from) instead, which cannot panic; its "nothing between"
 *   answer becomes the empty diff our server gives for such a request.
 * - Init: after a HashMismatch the Rust server treats the hash as "in
 *   progress" forever (no map of it can ever be created), and two Inits of
 *   one hash at once both get InitSuccess before the map exists. So the
 *   gateway decodes the init data (bounded, so a length claiming 2^40 bytes
 *   cannot abort the upstream), answers HashMismatch itself when the data
 *   does not hash to the claimed hash, and sends one Init per hash at a time.
 * - Event: with an event schema the gateway decodes each event first
 *   (bounded), so a payload that would make bincode allocate a claimed
 *   2^40-byte string never reaches the upstream; the event grants of an
 *   Access are checked on the decoded variant.
 */
import {
  decode,
  decodeRequestWrapper,
  encodeResponse,
  toHex,
  type Request,
  type Response,
  type Schema,
} from '@syncstate-ts/codec';
import { decodePairsSliced, StateMap, timeSlices, type Kind } from '@syncstate-ts/core';
import { accessRefusal, type Access } from '@syncstate-ts/server';
import { RelayError } from './errors.js';
import type { RequestSender } from './upstream.js';

/** The empty diff (no pairs, from 0, upto 0, not full): our server's answer where Rust's panics. */
const EMPTY_DIFF: Response = { type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 0n, isFull: false, encodedDiff: Uint8Array.of(0) };

export interface RelayOptions<K, V, E> {
  upstream: RequestSender;
  /** Key and value kinds of the upstream's maps (Init data is checked with them). */
  key: Kind<K>;
  value: Kind<V>;
  /**
   * The upstream's event schema. With it, events are decoded before they are
   * relayed (see above) and an Access may restrict event variants; without
   * it, events are relayed unread and a connection whose Access names
   * event variants may send none.
   */
  event?: Schema<E> | undefined;
}

export class Relay<K, V, E> {
  readonly #upstream: RequestSender;
  readonly #key: Kind<K>;
  readonly #value: Kind<V>;
  readonly #event: Schema<E> | undefined;
  /** Init in progress per map (hex hash): the next waits for it. */
  readonly #inits = new Map<string, Promise<unknown>>();

  constructor(options: RelayOptions<K, V, E>) {
    this.#upstream = options.upstream;
    this.#key = options.key;
    this.#value = options.value;
    this.#event = options.event;
  }

  /**
   * The encoded Response for one RequestWrapper, or a RelayError: 'no-answer'
   * where the upstream would hang up without answering (undecodable input),
   * 'forbidden' where `access` refuses the request, 'unavailable' when the
   * upstream cannot be reached or refuses the gateway's password.
   */
  async respond(payload: Uint8Array, access: Access): Promise<Uint8Array> {
    let request: Request;
    try {
      request = decodeRequestWrapper(payload).request;
    } catch (err) {
      throw new RelayError('no-answer', `undecodable request: ${(err as Error).message}`, { cause: err });
    }
    const refusal = accessRefusal(access, request.type, request.hash);
    if (refusal !== undefined) throw new RelayError('forbidden', refusal);
    return encodeResponse(await this.#relay(request, access));
  }

  #relay(request: Request, access: Access): Promise<Response> {
    switch (request.type) {
      case 'GetUpdateId':
        return this.#upstream.send(request);
      case 'GetDiff':
        return this.#getDiff(request);
      case 'Init':
        return this.#oneAtATime(toHex(request.hash), () => this.#init(request));
      case 'Event':
        return this.#eventRequest(request, access);
    }
  }

  async #getDiff(request: Extract<Request, { type: 'GetDiff' }>): Promise<Response> {
    if (request.uptoUpdateId >= request.fromUpdateId) return this.#upstream.send(request);
    const answer = await this.#upstream.send({ ...request, uptoUpdateId: request.fromUpdateId });
    // A full diff (from at or past the map's id) is what Rust answers for upto < from too.
    if (answer.type === 'Diff' && !answer.isFull) return EMPTY_DIFF;
    return answer;
  }

  async #init(request: Extract<Request, { type: 'Init' }>): Promise<Response> {
    let hash: Uint8Array;
    try {
      hash = await initDataHash(request.initData, this.#key, this.#value);
    } catch (err) {
      throw new RelayError('no-answer', `undecodable init data: ${(err as Error).message}`, { cause: err });
    }
    if (toHex(hash) !== toHex(request.hash)) return { type: 'HashMismatch' };
    return this.#upstream.send(request);
  }

  async #eventRequest(request: Extract<Request, { type: 'Event' }>, access: Access): Promise<Response> {
    if (this.#event === undefined) {
      if (access.events !== undefined) {
        throw new RelayError('forbidden', 'Event refused: this gateway has no event schema to check the event variants this connection may send');
      }
      return this.#upstream.send(request);
    }
    let event: unknown;
    try {
      event = decode(this.#event, request.eventData);
    } catch (err) {
      // Rust answers HashNotFound for an unknown map before it decodes the event, and hangs up otherwise.
      const known = await this.#upstream.send({ type: 'GetUpdateId', hash: request.hash });
      if (known.type === 'HashNotFound') return known;
      throw new RelayError('no-answer', `the event does not decode with the gateway's event schema: ${(err as Error).message}`, { cause: err });
    }
    if (access.events !== undefined) {
      const variant = variantOf(event);
      if (variant === undefined || !access.events.has(variant)) {
        throw new RelayError('forbidden', `Event refused: this connection may not send ${variant ?? 'this'} events`);
      }
    }
    return this.#upstream.send(request);
  }

  /** Runs `work` after the previous work of the same key has settled. */
  async #oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#inits.get(key);
    const run = (before ?? Promise.resolve()).then(work, work);
    const settled = run.catch(() => undefined);
    this.#inits.set(key, settled);
    void settled.then(() => {
      if (this.#inits.get(key) === settled) this.#inits.delete(key);
    });
    return run;
  }
}

/**
 * The hash of the map the Rust server would build from `initData` (a
 * `HashMap<K, V>`: a repeated key keeps its last value), computed in slices
 * so a big map does not hold the event loop.
 */
export async function initDataHash<K, V>(initData: Uint8Array, key: Kind<K>, value: Kind<V>): Promise<Uint8Array> {
  const pace = timeSlices();
  const { keys, values } = await decodePairsSliced(initData, key, value, pace);
  const last = new Map<string | number, number>();
  for (let i = 0; i < keys.length; i++) last.set(key.id(keys[i]!), i);
  const map = new StateMap<K, V>({ key, value });
  for (const i of last.values()) map.push(keys[i]!, values[i]!);
  await map.freeze({ pace });
  return map.hash()!;
}

/** The variant name of an enum event (`{ type: 'Set', value }`), undefined for other event shapes. */
function variantOf(event: unknown): string | undefined {
  if (typeof event === 'object' && event !== null && typeof (event as { type?: unknown }).type === 'string') {
    return (event as { type: string }).type;
  }
  return undefined;
}
