/**
 * The gateway: a WebSocket listener (@syncstate-ts/server-websocket, the same
 * listener, limits and authorization as `syncstate serve --ws-port`) whose
 * service relays each request to an upstream syncstate server over TLS and
 * turns upstream polls into pushes.
 */
import type { Schema } from '@syncstate-ts/codec';
import { silentLogger, type Answer, type Logger } from '@syncstate-ts/server';
import {
  WebSocketListener,
  type Authorize,
  type WebSocketListenerOptions,
  type WebSocketService,
  type WebSocketStats,
} from '@syncstate-ts/server-websocket';
import { RelayError } from './errors.js';
import { Relay } from './relay.js';
import { Upstream, type UpstreamOptions } from './upstream.js';
import { UpstreamWatcher, type WatcherOptions } from './watcher.js';

export interface GatewayOptions<K, V, E> extends Omit<WebSocketListenerOptions, 'service'> {
  /** The server behind the gateway, and the password the gateway sends it. */
  upstream: UpstreamOptions<K, V>;
  /** The upstream's event schema: events are checked before they are relayed (see Relay). */
  event?: Schema<E> | undefined;
  /** Who may connect and what they may do (tokenAuthorize, or your own). Browsers never hold the upstream's password. */
  authorize: Authorize;
  /** Polling of subscribed maps (one poll per map and interval, default 500 ms). */
  poll?: WatcherOptions | undefined;
}

export interface GatewayStats extends WebSocketStats {
  upstream: {
    /** Requests sent upstream (each one TLS connection), polls included. */
    requests: number;
    /** Of those, GetUpdateId polls for subscribed maps. */
    polls: number;
    /** Maps being polled now. */
    polledMaps: number;
  };
}

export class Gateway {
  readonly listener: WebSocketListener;
  readonly #upstream: Pick<Upstream<unknown, unknown>, 'address' | 'requestsSent'>;
  readonly #watcher: UpstreamWatcher;

  constructor(listener: WebSocketListener, upstream: Pick<Upstream<unknown, unknown>, 'address' | 'requestsSent'>, watcher: UpstreamWatcher) {
    this.listener = listener;
    this.#upstream = upstream;
    this.#watcher = watcher;
  }

  /** `ws://host:port/` (or `wss://`). */
  get url(): string | undefined {
    return this.listener.url;
  }

  get upstreamAddress(): string {
    return this.#upstream.address;
  }

  address(): ReturnType<WebSocketListener['address']> {
    return this.listener.address();
  }

  stats(): GatewayStats {
    return {
      ...this.listener.stats(),
      upstream: { requests: this.#upstream.requestsSent, polls: this.#watcher.polls, polledMaps: this.#watcher.maps },
    };
  }

  /** Stops accepting, answers what is in flight, stops polling. Idempotent. */
  async close(): Promise<void> {
    await this.listener.close();
    this.#watcher.close();
  }
}

/** Starts a gateway; it is listening once this resolves. */
export async function startGateway<K, V, E>(options: GatewayOptions<K, V, E>): Promise<Gateway> {
  const { upstream: upstreamOptions, event, authorize, poll, ...listenerOptions } = options;
  const logger = listenerOptions.logger ?? silentLogger;
  const upstream = new Upstream(upstreamOptions);
  const watcher = new UpstreamWatcher(upstream, logger, poll);
  const relay = new Relay({ upstream, key: upstreamOptions.key, value: upstreamOptions.value, event });
  const listener = new WebSocketListener({ ...listenerOptions, logger, service: gatewayService(relay, watcher, authorize, logger) });
  await listener.listen();
  return new Gateway(listener, upstream, watcher);
}

/**
 * The listener's service of a gateway: requests through `relay`, map changes
 * through `watcher`. A RelayError rejects as it is: the listener sends it as
 * the carrier Error of its code ('unavailable', 'no-answer', 'forbidden'),
 * with its message.
 */
export function gatewayService<K, V, E>(relay: Relay<K, V, E>, watcher: UpstreamWatcher, authorize: Authorize, logger: Logger): WebSocketService {
  return {
    authorize,
    async respond(payload, access, peer): Promise<Answer> {
      try {
        return { type: 'response', bytes: await relay.respond(payload, access) };
      } catch (err) {
        if (err instanceof RelayError) logger[err.code === 'unavailable' ? 'warn' : 'debug']({ err, peer, code: err.code }, err.message);
        throw err;
      }
    },
    updateId: (hash) => watcher.updateId(hash),
    follow: (hash, onUpdate) => watcher.follow(hash, onUpdate),
  };
}
