// The gateway tests' stack: the real Rust server (fixtures `server` mode)
// behind a TCP relay that counts upstream connections and can be taken down,
// a gateway in front of it, and clients: WebSocketRemotes over the `ws`
// package (Node 20 has no global WebSocket) and a raw carrier client.
import WebSocket from 'ws';
import { decodeServerMessage, encodeClientMessage, t, WEBSOCKET_SUBPROTOCOL, type ClientMessage, type ServerMessage } from '@syncstate-ts/codec';
import { kinds, StateMap } from '@syncstate-ts/core';
import { startGateway, type Gateway, type GatewayOptions } from '@syncstate-ts/gateway';
import { WebSocketRemote, type WebSocketConstructor } from '@syncstate-ts/remote';
import { FULL_ACCESS, READ_ONLY_ACCESS } from '@syncstate-ts/server';
import { tokenAuthorize } from '@syncstate-ts/server-websocket';
import { startRustServer, type RustServer } from '@syncstate-ts/testkit/rust';
import { startTcpProxy, type TcpProxy } from '@syncstate-ts/testkit/tcp-proxy';

/** The fixture server's `enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>), Noop, Fail { reason: String } }`. */
export const kvEvent = t.enumOf({
  Set: t.tuple(t.string, t.string),
  SetMany: t.vec(t.tuple(t.string, t.string)),
  Noop: t.unit,
  Fail: t.struct({ reason: t.string }),
});

export const EDITOR = 'editor-token-0123';
export const READER = 'reader-token-0123';

export interface Stack {
  rust: RustServer;
  proxy: TcpProxy;
  gateway: Gateway;
  url: string;
  close(): Promise<void>;
}

/** Rust server, relay, gateway (EDITOR: full access, READER: read only, unless `authorize` is given). */
export async function startStack(options: Partial<GatewayOptions<string, string, unknown>> = {}): Promise<Stack> {
  const rust = await startRustServer();
  const proxy = await startTcpProxy(rust.port);
  const gateway = await startGateway({
    upstream: { address: `127.0.0.1:${proxy.port}`, tls: { ca: rust.cert }, password: rust.password, key: kinds.string, value: kinds.string, connectTimeoutMs: 2_000 },
    event: kvEvent,
    authorize: tokenAuthorize([
      { token: EDITOR, access: FULL_ACCESS },
      { token: READER, access: READ_ONLY_ACCESS },
    ]),
    poll: { intervalMs: 50, maxBackoffMs: 200 },
    ...options,
  });
  return {
    rust,
    proxy,
    gateway,
    url: gateway.url!,
    async close() {
      await gateway.close();
      await proxy.close();
      await rust.stop();
    },
  };
}

export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

export function wsRemote(url: string, token = EDITOR): WebSocketRemote<string, string> {
  return new WebSocketRemote({ url, token, key: kinds.string, value: kinds.string, WebSocket: NodeWebSocket });
}

export function mapWith(remote: StateMap<string, string>['remote'] | undefined, pairs: Iterable<readonly [string, string]>): StateMap<string, string> {
  const map = new StateMap({ key: kinds.string, value: kinds.string, ...(remote !== undefined ? { remote } : {}) });
  for (const [k, v] of pairs) map.push(k, v);
  return map;
}

/** Speaks carrier messages by hand, to see exactly what the gateway sends. */
export class RawClient {
  readonly ws: WebSocket;
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters: Array<() => void> = [];

  constructor(url: string) {
    this.ws = new WebSocket(url, [WEBSOCKET_SUBPROTOCOL]);
    this.ws.on('message', (data: Buffer) => {
      this.received.push(decodeServerMessage(new Uint8Array(data)));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async hello(url: string, token: string): Promise<RawClient> {
    const client = new RawClient(url);
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    client.send({ type: 'Hello', token: new TextEncoder().encode(token) });
    return client;
  }

  send(message: ClientMessage): void {
    this.ws.send(encodeClientMessage(message));
  }

  /** The next message not yet taken (10 s at most). */
  async next(): Promise<ServerMessage> {
    const deadline = Date.now() + 10_000;
    while (this.received.length === 0) {
      if (Date.now() > deadline) throw new Error('no message within 10 s');
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('closed');
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)), this.closed, new Promise((r) => setTimeout(r, 100))]);
    }
    return this.received.shift()!;
  }

  /** Sends a Request and returns the message answering it. */
  async request(id: number, payload: Uint8Array): Promise<ServerMessage> {
    this.send({ type: 'Request', id, payload });
    const answer = await this.next();
    if (!('id' in answer) || answer.id !== id) throw new Error(`expected the answer to ${id}, got ${JSON.stringify(answer)}`);
    return answer;
  }
}

/** Resolves once `check()` is true, polling every 20 ms; rejects after `ms` (a stall guard, not a timing). */
export async function until(check: () => boolean, ms = 10_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
