// The WebSocket tests' stack: the README KV server (TLS) with a WebSocket
// listener on its protocol, WebSocketRemotes over the `ws` package (Node 20
// has no global WebSocket), and a raw client speaking carrier messages.
import WebSocket from 'ws';
import { decodeServerMessage, encodeClientMessage, WEBSOCKET_SUBPROTOCOL, type ClientMessage, type ServerMessage } from '@syncstate-ts/codec';
import { kinds, StateMap } from '@syncstate-ts/core';
import { WebSocketRemote, type WebSocketConstructor, type WebSocketRemoteOptions } from '@syncstate-ts/remote';
import type { ServerOptions, SyncStateServer } from '@syncstate-ts/server';
import { listenWebSocket, type ServeWebSocketOptions, type WebSocketListener } from '@syncstate-ts/server-websocket';
import { startKvServer, type KvEvent } from '@syncstate-ts/testkit/kv-server';

export const PASSWORD = 'the-server-password';

export interface Stack {
  server: SyncStateServer<string, string, KvEvent>;
  listener: WebSocketListener;
  cert: string;
  url: string;
  close(): Promise<void>;
}

export async function startStack(
  tls: { cert: string; key: string },
  options: Partial<ServeWebSocketOptions> & { server?: Partial<Omit<ServerOptions<string, string, KvEvent>, 'tls' | 'key' | 'value' | 'event'>> } = {},
): Promise<Stack> {
  const { server: serverOptions, ...wsOptions } = options;
  const server = await startKvServer({ ...tls, password: PASSWORD, ...serverOptions });
  const listener = await listenWebSocket(server, { tls, password: PASSWORD, ...wsOptions });
  return {
    server,
    listener,
    cert: tls.cert,
    url: listener.url!,
    async close() {
      await listener.close();
      await server.close();
    },
  };
}

/** The `ws` client trusting `ca` (what a browser does with a trusted certificate). */
export function wsTrusting(ca: string, extra: WebSocket.ClientOptions = {}): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols, { ca, ...extra });
    }
  } as unknown as WebSocketConstructor;
}

export function wsRemote(
  stack: Pick<Stack, 'url' | 'cert'>,
  token: string = PASSWORD,
  overrides: Partial<WebSocketRemoteOptions<string, string>> = {},
): WebSocketRemote<string, string> {
  return new WebSocketRemote({
    url: stack.url,
    token,
    key: kinds.string,
    value: kinds.string,
    WebSocket: wsTrusting(stack.cert),
    ...overrides,
  });
}

export function mapWith(
  remote: WebSocketRemote<string, string> | StateMap<string, string>['remote'] | undefined,
  pairs: Iterable<readonly [string, string]>,
): StateMap<string, string> {
  const map = new StateMap({ key: kinds.string, value: kinds.string, ...(remote !== undefined ? { remote } : {}) });
  for (const [k, v] of pairs) map.push(k, v);
  return map;
}

/** A client that speaks carrier messages by hand: whatever a hostile or broken peer might send. */
export class RawClient {
  readonly ws: WebSocket;
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters: Array<() => void> = [];

  constructor(url: string, ca: string, options: { protocols?: string[]; maxPayload?: number } = {}) {
    this.ws = new WebSocket(url, options.protocols ?? [WEBSOCKET_SUBPROTOCOL], { ca, ...(options.maxPayload ? { maxPayload: options.maxPayload } : {}) });
    this.ws.on('message', (data: Buffer) => {
      this.received.push(decodeServerMessage(new Uint8Array(data)));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(message: ClientMessage | Uint8Array): void {
    this.ws.send(message instanceof Uint8Array ? message : encodeClientMessage(message));
  }

  /** Waits (at most 10 s) until `count` messages have arrived in all. */
  async messages(count: number): Promise<ServerMessage[]> {
    const deadline = Date.now() + 10_000;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.received.length} of ${count} messages arrived`);
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)), this.closed, new Promise((r) => setTimeout(r, 200))]);
      if (this.ws.readyState === WebSocket.CLOSED && this.received.length < count) throw new Error(`closed after ${this.received.length} messages`);
    }
    return this.received.slice(0, count);
  }

  /** Connects, says Hello, waits for Welcome. */
  static async welcomed(url: string, ca: string, token = PASSWORD): Promise<RawClient> {
    const client = new RawClient(url, ca);
    await client.opened();
    client.send({ type: 'Hello', token: new TextEncoder().encode(token) });
    const [welcome] = await client.messages(1);
    if (welcome?.type !== 'Welcome') throw new Error(`expected Welcome, got ${JSON.stringify(welcome)}`);
    return client;
  }
}
