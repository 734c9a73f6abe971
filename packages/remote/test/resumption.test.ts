// TLS session resumption: a remote's next connection resumes a session the
// server handed out on an earlier one, against the real Rust server, our
// server, and Node TLS servers that see it from their side.
import { randomBytes, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { decodeResponse, encodeFrame, encodeRequestWrapper, encodeResponse, type Response } from '@syncstate-ts/codec';
import { kinds } from '@syncstate-ts/core';
import { exchangeFrame, TcpStateRemote } from '@syncstate-ts/remote';
import { createSelfSignedCertificate, createServer, type CertificateAndKey } from '@syncstate-ts/server';
import { kvEvent } from '@syncstate-ts/testkit/kv';
import { startRustServer, type RustServer } from '@syncstate-ts/testkit/rust';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// connectTls and createTlsContext are internals (not exported): imported from src on purpose.
import { connectTls, createTlsContext, type TlsContext } from '../src/connect.js';
import { readRequestFrame, startTlsStub, type StubServer } from './helpers/tls-stub.js';

const limits = { connectTimeoutMs: 5_000, handshakeTimeoutMs: 5_000 };

interface Outcome {
  reused: boolean;
  authorized: boolean;
  protocol: string | null;
  cipher: string | undefined;
  answer: Response['type'];
}

/** One GetUpdateId on a connection of `context`, as TcpStateRemote.request makes it. */
async function ask(port: number, ca: string, password: string, context: TlsContext): Promise<Outcome> {
  const socket = await connectTls({ host: '127.0.0.1', port, tls: { ca }, context, ...limits });
  const seen = {
    reused: socket.isSessionReused(),
    authorized: socket.authorized,
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().standardName,
  };
  const request = encodeRequestWrapper({
    password: new TextEncoder().encode(password),
    request: { type: 'GetUpdateId', hash: new Uint8Array(randomBytes(32)) },
  });
  const answer = decodeResponse(await exchangeFrame(socket, request, { maxFrameSize: 1024, responseTimeoutMs: 5_000 }));
  return { ...seen, answer: answer.type };
}

/** `count` requests in a row; what each connection saw. */
async function askInRow(count: number, port: number, ca: string, password: string, context: TlsContext): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i++) outcomes.push(await ask(port, ca, password, context));
  return outcomes;
}

const fresh = { reused: false, authorized: true, protocol: 'TLSv1.3', cipher: expect.any(String), answer: 'HashNotFound' };
const resumed = { ...fresh, reused: true };

describe('against the Rust server', () => {
  let server: RustServer;
  beforeAll(async () => {
    server = await startRustServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('resumes the previous session on every later connection', async () => {
    const context = createTlsContext({ ca: server.cert });
    const outcomes = await askInRow(5, server.port, server.cert, server.password, context);
    expect(outcomes).toEqual([fresh, resumed, resumed, resumed, resumed]);
    expect(context.sessions?.size).toBeGreaterThan(0);
    // rustls follows the client's order: the suite it picks hashes with SHA-256.
    expect(outcomes.map((o) => o.cipher)).toEqual(Array(5).fill('TLS_AES_128_GCM_SHA256'));
  });

  it('keeps TLS 1.3 sessions without the server certificate (OpenSSL would decode it on every resumption)', async () => {
    const context = createTlsContext({ ca: server.cert });
    await ask(server.port, server.cert, server.password, context); // a full handshake: Node's session holds the certificate
    const stored = context.sessions!.take()!;
    if (stored[0] === 0x30) {
      // OpenSSL's own SSL_SESSION DER (Node 20): the certificate is taken out.
      expect(stored.includes(new X509Certificate(server.cert).raw)).toBe(false);
    } else {
      // Node 24 wraps sessions in a container of its own: kept as it is (session-der.ts parses only DER).
      expect(stored.subarray(1, 21).toString('latin1')).toBe('nodejs:tls:session:1');
    }
    const next = await ask(server.port, server.cert, server.password, context);
    expect(next).toEqual(resumed);
  });

  it('does not resume with resumption off', async () => {
    const context = createTlsContext({ ca: server.cert, resumption: false });
    expect(await askInRow(3, server.port, server.cert, server.password, context)).toEqual([fresh, fresh, fresh]);
  });

  it('shares its sessions between concurrent requests without failing any', async () => {
    const context = createTlsContext({ ca: server.cert });
    await ask(server.port, server.cert, server.password, context);
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => ask(server.port, server.cert, server.password, context)));
    expect(outcomes.every((o) => o.answer === 'HashNotFound' && o.authorized)).toBe(true);
    expect(outcomes.some((o) => o.reused)).toBe(true);
  });
});

describe('against @syncstate-ts/server (node:tls)', () => {
  it('resumes the previous session on every later connection', async () => {
    const { cert, key } = await createSelfSignedCertificate();
    const server = createServer({ tls: { cert, key }, password: 'pw', key: kinds.string, value: kinds.string, event: kvEvent });
    const { port } = await server.listen();
    try {
      const context = createTlsContext({ ca: cert });
      expect(await askInRow(4, port, cert, 'pw', context)).toEqual([fresh, resumed, resumed, resumed]);
    } finally {
      await server.close();
    }
  });
});

describe('TcpStateRemote', () => {
  let identity: CertificateAndKey;
  let stub: StubServer | undefined;
  /** What the server saw of each connection, in order. */
  let seen: Array<{ reused: boolean; protocol: string | null }>;
  beforeAll(async () => {
    identity = await createSelfSignedCertificate();
  });
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  /** A Node TLS server answering UpdateId 1 to every request. */
  async function serve(tls: { maxVersion?: 'TLSv1.2' } = {}): Promise<StubServer> {
    seen = [];
    stub = await startTlsStub(
      identity,
      (socket: TLSSocket) => {
        seen.push({ reused: socket.isSessionReused(), protocol: socket.getProtocol() });
        void readRequestFrame(socket).then(() => socket.end(encodeFrame(encodeResponse({ type: 'UpdateId', updateId: 1n }))));
      },
      tls,
    );
    return stub;
  }
  const remote = (port: number, resumption?: boolean): TcpStateRemote<string, string> =>
    new TcpStateRemote({
      port,
      tls: { ca: identity.cert, ...(resumption !== undefined ? { resumption } : {}) },
      password: 'pw',
      key: kinds.string,
      value: kinds.string,
    });
  const hash = new Uint8Array(32);
  const reusedOnServer = (): boolean[] => seen.map((c) => c.reused);

  it('resumes its sessions by default, and not with resumption: false', async () => {
    const s = await serve();
    const on = remote(s.port);
    for (let i = 0; i < 3; i++) expect(await on.getUpdateId(hash)).toBe(1n);
    const off = remote(s.port, false);
    for (let i = 0; i < 2; i++) expect(await off.getUpdateId(hash)).toBe(1n);
    expect(reusedOnServer()).toEqual([false, true, true, false, false]);
  });

  it('falls back to a full handshake when the server no longer knows its ticket, then resumes the new one', async () => {
    const s = await serve();
    const r = remote(s.port);
    await r.getUpdateId(hash);
    await r.getUpdateId(hash);
    s.server.setTicketKeys(randomBytes(48)); // every ticket handed out so far is now unknown
    await r.getUpdateId(hash);
    await r.getUpdateId(hash);
    expect(reusedOnServer()).toEqual([false, true, false, true]);
  });

  it('reuses a TLS 1.2 session for several connections', async () => {
    const s = await serve({ maxVersion: 'TLSv1.2' });
    const r = remote(s.port);
    for (let i = 0; i < 4; i++) expect(await r.getUpdateId(hash)).toBe(1n);
    expect(seen.map((c) => c.protocol)).toEqual(Array(4).fill('TLSv1.2'));
    expect(reusedOnServer()).toEqual([false, true, true, true]);
  });
});
