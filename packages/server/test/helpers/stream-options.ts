/**
 * serveConnection's options for the server's own tests of its stream layer
 * (stream.test.ts, handler.test.ts, rust-client.test.ts). It stays here, not
 * in @syncstate-ts/testkit, because it builds server internals that the package
 * does not export (ByteBudget, Metrics, ConnectionOptions).
 */
import { defaultLimits, silentLogger } from '@syncstate-ts/server';
import { ByteBudget } from '../../src/limits/budget.js';
import { Metrics } from '../../src/metrics.js';
import type { ConnectionOptions } from '../../src/transport/stream.js';

/** serveConnection's options with the default limits, a fresh budget and counters, silent. */
export function streamOptions(overrides: Partial<ConnectionOptions> = {}): ConnectionOptions {
  const { maxFrameSize, requestTimeoutMs, idleTimeoutMs, drainTimeoutMs, maxBufferedRequestBytes } = defaultLimits;
  return {
    maxFrameSize,
    requestTimeoutMs,
    idleTimeoutMs,
    drainTimeoutMs,
    budget: new ByteBudget(maxBufferedRequestBytes),
    metrics: new Metrics(),
    logger: silentLogger,
    ...overrides,
  };
}
