// Opening the TLS connection: the phases' time limits, certificate checks,
// and the server-name rules Rust clients and Node's tls differ on.
import type { TlsOptions } from 'node:tls';
import { ConnectionError, TimeoutError } from '@syncstate-ts/remote';
import { createSelfSignedCertificate, type CertificateAndKey } from '@syncstate-ts/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// connectTls and preferSha256 are internals (not exported): imported from src on purpose.
import { connectTls, preferSha256 } from '../src/connect.js';
import { startSilentTcp, startTlsStub, type StubServer } from './helpers/tls-stub.js';

let ipAndDns: CertificateAndKey; // SAN DNS localhost + IP 127.0.0.1 (what Rust clients need)
let dnsOnly: CertificateAndKey;
let ipOnly: CertificateAndKey;
let stubs: StubServer[] = [];

beforeAll(async () => {
  [ipAndDns, dnsOnly, ipOnly] = await Promise.all([
    createSelfSignedCertificate(),
    createSelfSignedCertificate({ ipAddresses: [] }),
    createSelfSignedCertificate({ dnsNames: [], ipAddresses: ['127.0.0.1'], commonName: 'ip-only' }),
  ]);
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
});

async function stub(identity: CertificateAndKey, options: TlsOptions = {}): Promise<StubServer> {
  const s = await startTlsStub(identity, () => {}, options);
  stubs.push(s);
  return s;
}

const limits = { connectTimeoutMs: 5_000, handshakeTimeoutMs: 5_000 };

describe('connectTls', () => {
  it('verifies the certificate against the dialed IP, as Rust clients do', async () => {
    const server = await stub(ipAndDns);
    const socket = await connectTls({ host: '127.0.0.1', port: server.port, tls: { ca: ipAndDns.cert }, ...limits });
    expect(socket.authorized).toBe(true);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(socket.getProtocol());
    socket.destroy();
  });

  it('asks for the SHA-256 suite first (cheaper handshakes), still offering the others', async () => {
    const server = await stub(ipAndDns, { honorCipherOrder: false }); // the client's order decides, as with rustls
    const socket = await connectTls({ host: '127.0.0.1', port: server.port, tls: { ca: ipAndDns.cert }, ...limits });
    expect(socket.getCipher().standardName).toBe('TLS_AES_128_GCM_SHA256');
    socket.destroy();
    expect(preferSha256('TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:HIGH')).toBe(
      'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:HIGH',
    );
    expect(preferSha256('TLS_AES_256_GCM_SHA384:HIGH')).toBe('TLS_AES_256_GCM_SHA384:HIGH');
  });

  it('fails with ConnectionError when the dialed IP is not in the certificate', async () => {
    const server = await stub(dnsOnly);
    const err = await connectTls({ host: '127.0.0.1', port: server.port, tls: { ca: dnsOnly.cert }, ...limits }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('connection-failed');
    expect(((err as Error).cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('checks a DNS servername instead of the dialed IP when given one', async () => {
    const server = await stub(dnsOnly);
    const socket = await connectTls({
      host: '127.0.0.1',
      port: server.port,
      tls: { ca: dnsOnly.cert, servername: 'localhost' },
      ...limits,
    });
    expect(socket.authorized).toBe(true);
    socket.destroy();
  });

  it('checks an IP servername by hand (Node may not send an IP as SNI)', async () => {
    const server = await stub(ipOnly);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const socket = await connectTls({
        host: 'localhost',
        port: server.port,
        tls: { ca: ipOnly.cert, servername: '127.0.0.1' },
        ...limits,
      });
      expect(socket.authorized).toBe(true);
      socket.destroy();
      const wrong = await connectTls({
        host: '127.0.0.1',
        port: server.port,
        tls: { ca: ipOnly.cert, servername: '127.0.0.2' },
        ...limits,
      }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ConnectionError);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.message).join('\n')).not.toContain('RFC 6066');
  });

  it('fails with ConnectionError for an untrusted certificate', async () => {
    const server = await stub(ipAndDns);
    const err = await connectTls({ host: '127.0.0.1', port: server.port, tls: { ca: dnsOnly.cert }, ...limits }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:\d+: /);
  });

  it('fails with ConnectionError when nothing listens', async () => {
    const silent = await startSilentTcp();
    const port = silent.port;
    await silent.close();
    const err = await connectTls({ host: '127.0.0.1', port, tls: { ca: ipAndDns.cert }, ...limits }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(((err as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('times out the TCP connect phase', async () => {
    const err = await connectTls({
      host: 'localhost',
      port: 1,
      tls: { ca: ipAndDns.cert },
      ...limits,
      connectTimeoutMs: 50,
      lookup: () => {}, // the name never resolves: the socket stays connecting
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ phase: 'connect', timeoutMs: 50, code: 'timeout' });
  });

  it('times out a server that accepts TCP but never completes the handshake', async () => {
    const silent = await startSilentTcp();
    try {
      const err = await connectTls({
        host: '127.0.0.1',
        port: silent.port,
        tls: { ca: ipAndDns.cert },
        ...limits,
        handshakeTimeoutMs: 100,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).toMatchObject({ phase: 'handshake', timeoutMs: 100 });
      expect((err as Error).message).toBe('the TLS handshake did not complete within 100 ms');
    } finally {
      await silent.close();
    }
  });

  it('aborts a pending handshake with the signal reason', async () => {
    const silent = await startSilentTcp();
    try {
      const controller = new AbortController();
      const pending = connectTls({ host: '127.0.0.1', port: silent.port, tls: { ca: ipAndDns.cert }, ...limits, signal: controller.signal });
      setTimeout(() => controller.abort(new Error('stop')), 20);
      await expect(pending).rejects.toThrow('stop');
    } finally {
      await silent.close();
    }
  });
});
