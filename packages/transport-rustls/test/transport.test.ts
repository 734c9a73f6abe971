// The rustls transport held to the server's transport suite (lifecycle,
// counters, limits, the hostile battery), then live with the real Rust client
// and our TypeScript client, and its own option checks.
import { connect as connectTls } from 'node:tls';
import { encode } from '@syncstate-ts/codec';
import { kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { createSelfSignedCertificate, createServer, nodeTlsTransport } from '@syncstate-ts/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { kvEvent, type KvEvent } from '@syncstate-ts/testkit/kv-server';
import { liveKvServer, noDelayedAckStallScenario, rustClientScenarios } from '@syncstate-ts/testkit/rust-client-scenarios';
import { describeBattery, describeTransport } from '@syncstate-ts/testkit/transport-suite';
import { request } from '@syncstate-ts/testkit/wire';
import { isAvailable, rustlsTransport, tcpQuickAck, UnsupportedTlsOptionError } from '../src/index.js';

const PASSWORD = 'correct horse';

it('the addon is built and loads (tests run, never skip)', () => {
  expect(isAvailable()).toBe(true);
});

describe('the transport suite of @syncstate-ts/server', () => {
  describeTransport(rustlsTransport());
});

describe('the battery of @syncstate-ts/server', () => {
  describeBattery(rustlsTransport({ threads: 2 }), { seed: 20_240_602 });
});

describe('live', () => {
  const live = liveKvServer(PASSWORD, { transport: rustlsTransport(), limits: { idleTimeoutMs: 1_000 } });

  it('reports its transport', () => {
    expect(live().server.transport).toBe('rustls');
  });

  rustClientScenarios(live);
  noDelayedAckStallScenario(live);

  it('our TypeScript client syncs through it: init, an event, the hook\'s change pulled back', async () => {
    const { server, cert } = live();
    const remote = new TcpStateRemote({ port: server.address()!.port, tls: { ca: cert }, password: PASSWORD, key: kinds.string, value: kinds.string });
    const map = new StateMap<string, string>({ key: kinds.string, value: kinds.string });
    map.push('colour', 'red');
    await map.freeze();
    await remote.init(map);
    await remote.sendEvent(encode(kvEvent, { type: 'Set', value: ['colour', 'blue'] }), map.hash()!);
    for (let i = 0; i < 100 && map.get('colour') !== 'blue'; i++) await remote.sync(map);
    expect(map.get('colour')).toBe('blue');
    expect(await remote.getUpdateId(map.hash()!)).toBe(1n);
  });
});

describe('options', () => {
  let cert: string;
  let key: string;

  beforeAll(async () => {
    ({ cert, key } = await createSelfSignedCertificate());
  });

  const serverWith = (tls: Record<string, unknown>) =>
    createServer<string, string, KvEvent>({ tls, password: PASSWORD, key: kinds.string, value: kinds.string, event: kvEvent, transport: rustlsTransport() });

  it('refuses node:tls options it cannot honour, at construction, instead of ignoring them', () => {
    expect(() => serverWith({ cert, key, passphrase: 'x' })).toThrow(UnsupportedTlsOptionError);
    expect(() => serverWith({ cert, key, ciphers: 'AES128' })).toThrow(/tls\.ciphers is not supported/);
    expect(() => serverWith({ cert, key, minVersion: 'TLSv1.1' })).toThrow(UnsupportedTlsOptionError);
    expect(() => serverWith({ pfx: Buffer.alloc(1) })).toThrow(UnsupportedTlsOptionError);
  });

  it('a certificate or key that is not PEM fails listen() with a clear message', async () => {
    const server = serverWith({ cert: 'not a certificate', key });
    await expect(server.listen()).rejects.toThrow(/tls\.cert holds no PEM certificate/);
    await server.close();
  });

  it.each([
    ['TLSv1.3', 'TLSv1.2'],
    ['TLSv1.2', 'TLSv1.3'],
  ] as const)('pinned to %s by minVersion/maxVersion: serves it, refuses a client that only speaks %s', async (pinned, other) => {
    const server = serverWith({ cert, key, minVersion: pinned, maxVersion: pinned });
    const { port } = await server.listen();
    const handshake = (version: 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<string>((resolve) => {
        const socket = connectTls({ host: '127.0.0.1', port, ca: cert, minVersion: version, maxVersion: version });
        socket.once('secureConnect', () => {
          resolve(socket.getProtocol() ?? '?');
          socket.end(); // sent nothing: the server counts it as closed before a request
        });
        socket.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
      });
    expect(await handshake(pinned)).toBe(pinned);
    expect(await handshake(other)).toMatch(/^ERR_SSL/);
    expect(await request(port, cert, PASSWORD, { type: 'GetUpdateId', hash: new Uint8Array(32) })).toEqual({ type: 'HashNotFound' });
    await server.close();
    expect(server.metrics().errors['tls-error']).toBe(1);
  });

  it('prefers the SHA-256 suites (cheaper handshakes) even when the client lists AES-256-GCM-SHA384 first', async () => {
    const server = serverWith({ cert, key });
    const { port } = await server.listen();
    const cipher = (version: 'TLSv1.2' | 'TLSv1.3', ciphers: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connectTls({ host: '127.0.0.1', port, ca: cert, minVersion: version, maxVersion: version, ciphers });
        socket.once('secureConnect', () => (resolve(socket.getCipher().standardName), socket.destroy()));
        socket.once('error', reject);
      });
    expect(await cipher('TLSv1.3', 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256')).toBe('TLS_AES_128_GCM_SHA256');
    expect(await cipher('TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256')).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    // A client that offers only AES-256 still gets it.
    expect(await cipher('TLSv1.3', 'TLS_AES_256_GCM_SHA384')).toBe('TLS_AES_256_GCM_SHA384');
    await server.close();
  });

  it('refuses TLS versions rustls does not speak, or none at all', () => {
    expect(() => serverWith({ cert, key, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' })).toThrow(UnsupportedTlsOptionError);
    expect(() => serverWith({ cert, key, maxVersion: 'TLSv1.1' })).toThrow(UnsupportedTlsOptionError);
  });
});

describe('tcpQuickAck: node:tls with the addon setting TCP_QUICKACK', () => {
  const live = liveKvServer(PASSWORD, { transport: (context) => nodeTlsTransport(context, { quickAck: tcpQuickAck }) });

  it('runs on node:tls', () => {
    expect(live().server.transport).toBe('node:tls');
  });

  noDelayedAckStallScenario(live);
});
