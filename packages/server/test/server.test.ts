// The TLS server: lifecycle, connection limits and timeouts on real sockets
// (the transport suite, shared with @syncstate-ts/transport-rustls), logging, options.
import { kinds } from '@syncstate-ts/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, createServer, type ServerLimits } from '@syncstate-ts/server';
import { hashOf, memoryLogger, req } from '@syncstate-ts/testkit/fixtures';
import { describeTransport } from '@syncstate-ts/testkit/transport-suite';
import { request } from '@syncstate-ts/testkit/wire';
import { kvEvent, startKvServer, type KvEvent } from '../examples/ts-server.js';

const PASSWORD = 'pw';
let cert: string;
let key: string;

beforeAll(async () => {
  ({ cert, key } = await createSelfSignedCertificate());
});

const pairs: Array<[string, string]> = [['k', 'v']];

describe('node:tls transport (the default)', () => {
  describeTransport(undefined);
});

describe('logging', () => {
  it('the README server logs through an injected pino-style logger', async () => {
    const logger = memoryLogger();
    const server = await startKvServer({ cert, key, password: PASSWORD, logger });
    const { port } = server.address()!;
    await request(port, cert, 'wrong', req.getUpdateId(await hashOf(pairs)));
    await server.close();
    expect(logger.records.map((r) => [r.level, r.msg])).toEqual([
      // node:tls without quickAck, on Linux (NodeTlsOptions.quickAck):
      ...(process.platform === 'linux' ? [['warn', expect.stringContaining('node:tls without quickAck')]] : []),
      ['info', 'listening'],
      ['debug', 'TLS connection'],
      ['warn', 'incorrect password'],
      ['info', 'closed'],
    ]);
  });
});

describe('options', () => {
  it('rejects nonsensical limits when the server is built', () => {
    const kvServer = (limits: Partial<ServerLimits>) =>
      createServer<string, string, KvEvent>({ tls: { cert, key }, password: PASSWORD, key: kinds.string, value: kinds.string, event: kvEvent, limits });
    for (const limits of [
      { maxFrameSize: 0 },
      { maxFrameSize: 2 ** 32 },
      { idleTimeoutMs: Infinity },
      { requestTimeoutMs: -1 },
      { maxHistory: 1.5 },
      { maxConnections: Number.NaN },
      { incorrectPasswordDelayMs: [5, 5] as const },
    ]) {
      expect(() => kvServer(limits as Partial<ServerLimits>), JSON.stringify(limits)).toThrow(RangeError);
    }
    expect(() => kvServer({ maxHistory: Infinity, maxConnections: Infinity, hookTimeoutMs: Infinity })).not.toThrow();
  });
});
