/**
 * Subscriptions of every connection, by map: each map is followed once
 * (service.follow), however many connections subscribe, and each new update
 * id is handed to every subscriber. A gateway's service therefore polls its
 * upstream once per map, not once per browser.
 */
import { toHex } from '@syncstate-ts/codec';
import type { WebSocketService } from './service.js';

export interface Subscriber {
  push(hash: Uint8Array, updateId: bigint): void;
}

interface Followed {
  readonly subscribers: Set<Subscriber>;
  readonly stop: () => void;
}

export class SubscriptionHub {
  readonly #service: WebSocketService;
  readonly #maps = new Map<string, Followed>();
  #subscriptions = 0;

  constructor(service: WebSocketService) {
    this.#service = service;
  }

  /** Maps followed now. */
  get maps(): number {
    return this.#maps.size;
  }

  /** Subscriptions of all connections together. */
  get subscriptions(): number {
    return this.#subscriptions;
  }

  add(subscriber: Subscriber, hash: Uint8Array, hashHex = toHex(hash)): void {
    let followed = this.#maps.get(hashHex);
    if (followed === undefined) {
      const subscribers = new Set<Subscriber>();
      const own = hash.slice();
      const stop = this.#service.follow(own, (updateId) => {
        for (const s of subscribers) s.push(own, updateId);
      });
      followed = { subscribers, stop };
      this.#maps.set(hashHex, followed);
    }
    if (!followed.subscribers.has(subscriber)) {
      followed.subscribers.add(subscriber);
      this.#subscriptions++;
    }
  }

  remove(subscriber: Subscriber, hashHex: string): void {
    const followed = this.#maps.get(hashHex);
    if (followed === undefined || !followed.subscribers.delete(subscriber)) return;
    this.#subscriptions--;
    if (followed.subscribers.size === 0) {
      this.#maps.delete(hashHex);
      followed.stop();
    }
  }
}
