// Robustness run: thousands of random, mutated, truncated and oversized
// frames plus idle connections (fast-check, bounded in count and time),
// against our server and then against the Rust server. Ours must stay
// correct and flat in memory; what the Rust server does is recorded in its
// own assertions (set SYNCSTATE_BATTERY_REPORT=1 to print the tallies).
import fc from 'fast-check';
import { decodeResponse } from '@syncstate-ts/codec';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { attackArb, outcomes, payloadArb, runAttacks, tally, type Target } from '@syncstate-ts/testkit/battery';
import { hashOf, kvHandler, req } from '@syncstate-ts/testkit/fixtures';
import { startRustServer } from '@syncstate-ts/testkit/rust';
import { describeBattery } from '@syncstate-ts/testkit/transport-suite';
import { request, silentTcp } from '@syncstate-ts/testkit/wire';

const PASSWORD = 'battery';
const SEED = 20_240_601;
const MiB = 1024 * 1024;
const report = process.env.SYNCSTATE_BATTERY_REPORT === '1';
const pairs: Array<[string, string]> = [['alpha', '1'], ['beta', '2']];

let cert: string;
let key: string;
let knownHash: Uint8Array;
/** Per-attack outcomes of our server, compared with the Rust server's. */
let ourOutcomes: string[] | undefined;

beforeAll(async () => {
  ({ cert, key } = await createSelfSignedCertificate());
  knownHash = await hashOf(pairs);
});

describe('protocol handler under random and mutated payloads', () => {
  it('answers each with a decodable response or closes; then still answers correctly', async () => {
    const handler = kvHandler(PASSWORD, { limits: { incorrectPasswordDelayMs: [0, 0.001] } });
    const init = await req.init(pairs);
    const { encodeRequestWrapper } = await import('@syncstate-ts/codec');
    const wrap = (r: typeof init) => encodeRequestWrapper({ password: new TextEncoder().encode(PASSWORD), request: r });
    expect(decodeResponse((await handler.respond(wrap(init)))!)).toEqual({ type: 'InitSuccess' });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(payloadArb({ password: PASSWORD, knownHash }), async (payload) => {
        runs++;
        const answer = await handler.respond(payload);
        if (answer !== null) expect(decodeResponse(answer).type).toMatch(/^[A-Z]/);
      }),
      { numRuns: 4_000, seed: SEED, interruptAfterTimeLimit: 10_000 },
    );
    await handler.idle();
    expect(runs).toBeGreaterThan(1_000);
    const m = handler.metrics();
    expect(m.errors.internal).toBeUndefined();
    expect(m.maps).toBe(1); // no random Init can match its claimed hash
    const answer = decodeResponse((await handler.respond(wrap(req.getUpdateId(knownHash))))!);
    expect(answer.type).toBe('UpdateId');
    await handler.close();
  }, 30_000);
});

describeBattery(undefined, { seed: SEED, report, onOutcomes: (outcomes) => (ourOutcomes = outcomes) });

describe('the Rust server under the same battery', () => {
  it('is recorded: it survives these frames (oversized claims kept to 32 MiB), holds idle connections, grows while they last', async () => {
    // Claims up to 4 GiB would make it allocate them (see rust-server-defects); a 4 GiB address-space cap keeps the run safe.
    const rust = await startRustServer({ cert, key, password: PASSWORD, addressSpaceKiB: 4 * 1024 * 1024 });
    try {
      const { port } = rust;
      expect(await request(port, cert, PASSWORD, await req.init(pairs))).toEqual({ type: 'InitSuccess' });
      const target: Target = { port, ca: cert, password: PASSWORD, knownHash };
      const attacks = fc.sample(attackArb(target, { maxFrameSize: 16 * MiB, maxOversized: 32 * MiB }), {
        numRuns: 1_500,
        seed: SEED,
      });
      const threadsBefore = rust.threads();
      const rssBefore = rust.rss();
      const idle = await Promise.all(Array.from({ length: 50 }, () => silentTcp(port)));
      const results = await runAttacks(target, attacks, { concurrency: 8, timeLimitMs: 20_000, attackTimeoutMs: 5_000 });
      const counts = tally(results);
      const alive = rust.isRunning();
      const threadsHeld = rust.threads() - threadsBefore;
      const idleOpen = idle.filter((s) => !s.destroyed).length;
      const rssGrowth = rust.rss() - rssBefore;
      if (report) console.info('rust', results.length, counts, { alive, threadsHeld, idleOpen, rssGrowthMiB: rssGrowth / MiB });

      expect(results.length).toBeGreaterThan(1_000);
      expect(results.filter((r) => r.outcome === 'garbled-answer')).toEqual([]);
      // Oversized prefixes: allocated, then the connection ends without an answer.
      expect(results.filter((r) => r.attack.kind === 'oversized' && r.outcome === 'answered')).toEqual([]);
      expect(alive).toBe(true);
      expect(idleOpen).toBe(50); // never timed out
      expect(threadsHeld).toBeGreaterThanOrEqual(50); // one thread each
      // The claimed frames were allocated and zeroed; the allocator keeps much of it afterwards.
      expect(rssGrowth).toBeGreaterThan(64 * MiB);
      // Apart from that, the same answers as ours, attack for attack.
      if (ourOutcomes !== undefined && ourOutcomes.length === results.length) expect(outcomes(results)).toEqual(ourOutcomes);
      expect(await request(port, cert, PASSWORD, req.getUpdateId(knownHash))).toMatchObject({ type: 'UpdateId' });
      for (const s of idle) s.destroy();
    } finally {
      await rust.stop();
    }
  }, 60_000);
});
