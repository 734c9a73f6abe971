/**
 * The TLS sessions a server handed out, offered again on the next connection
 * (rustls clients do the same by default). A resumed handshake skips the
 * certificate, its signature and its checks on both sides: with one
 * connection per request, that is most of a request's cost.
 */
import { withoutPeerCertificate } from './session-der.js';

/** As many TLS 1.3 tickets as rustls keeps per server. */
export const MAX_CACHED_SESSIONS = 8;

export class SessionCache {
  readonly #sessions: Buffer[] = []; // oldest first

  constructor(readonly capacity = MAX_CACHED_SESSIONS) {}

  get size(): number {
    return this.#sessions.length;
  }

  /**
   * The newest session, if any. It leaves the cache unless it is the last
   * one: a TLS 1.3 ticket is meant for one connection (RFC 8446 appendix
   * C.4; rustls servers accept each once, and hand out new ones every time),
   * but OpenSSL servers send none on a resumed connection and accept a
   * ticket again, and a TLS 1.2 session is made for reuse. A session the
   * server declines is discarded (connect.ts); that full handshake brings new ones.
   */
  take(): Buffer | undefined {
    return this.#sessions.length > 1 ? this.#sessions.pop() : this.#sessions[0];
  }

  /** Keeps a session from Node's `'session'` event; `protocol` is the connection's (`getProtocol()`). */
  add(session: Buffer, protocol: string | null): void {
    this.#sessions.push(protocol === 'TLSv1.3' ? withoutPeerCertificate(session) : session);
    if (this.#sessions.length > this.capacity) this.#sessions.shift();
  }

  /** Forgets a session the server did not resume. */
  discard(session: Buffer): void {
    const i = this.#sessions.indexOf(session);
    if (i >= 0) this.#sessions.splice(i, 1);
  }

  clear(): void {
    this.#sessions.length = 0;
  }
}
