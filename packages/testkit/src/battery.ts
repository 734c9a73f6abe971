/**
 * A battery of hostile and broken connections, generated with fast-check and
 * run against any syncstate server (ours or the Rust one): random frames,
 * mutated valid requests, truncated frames, oversized length prefixes.
 */
import fc from 'fast-check';
import type { Request } from '@syncstate-ts/codec';
import { decodeResponse } from '@syncstate-ts/codec';
import { frameRequest, rawTls, type RawResult, unframeResponse } from './wire.js';

export type Attack =
  | { kind: 'random'; payload: Uint8Array }
  | { kind: 'mutated'; bytes: Uint8Array }
  | { kind: 'truncated'; bytes: Uint8Array }
  | { kind: 'oversized'; claimed: number; tail: Uint8Array };

export interface Target {
  port: number;
  ca: string;
  password: string;
  /** Hash of a map that exists on the server, so mutated requests reach deep paths. */
  knownHash: Uint8Array;
}

export type Outcome = 'answered' | 'closed-without-answer' | 'timeout' | 'error' | 'garbled-answer';

export interface AttackResult {
  /** Position in the attack list (results arrive in completion order). */
  index?: number;
  attack: Attack;
  outcome: Outcome;
  answer?: string;
  error?: string;
}

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, 4);
  return out;
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const smallId = fc.bigInt({ min: 0n, max: 8n });

function requestArb(target: Target): fc.Arbitrary<Request> {
  const hash = fc.oneof(fc.constant(target.knownHash), fc.uint8Array({ minLength: 32, maxLength: 32 }));
  return fc.oneof(
    hash.map((h) => ({ type: 'GetUpdateId' as const, hash: h })),
    fc.record({ hash, eventData: fc.uint8Array({ maxLength: 64 }) }).map((r) => ({ type: 'Event' as const, ...r })),
    // from <= upto only: from > upto is the Rust panic, tested on its own.
    fc
      .record({ hash, a: fc.oneof(smallId, u64), b: fc.oneof(smallId, u64) })
      .map(({ hash: h, a, b }) => ({
        type: 'GetDiff' as const,
        hash: h,
        fromUpdateId: a < b ? a : b,
        uptoUpdateId: a < b ? b : a,
      })),
    fc.record({ hash, initData: fc.uint8Array({ maxLength: 64 }) }).map((r) => ({ type: 'Init' as const, ...r })),
  );
}

type Mutation = { op: 'flip'; at: number; xor: number } | { op: 'cut'; at: number } | { op: 'insert'; at: number; bytes: Uint8Array };

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.op === 'flip') {
      out = out.slice();
      if (out.length > 0) out[at] = out[at]! ^ m.xor;
    } else if (m.op === 'cut') {
      out = out.slice(0, at);
    } else {
      out = Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)]);
    }
  }
  return out;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
);

/** Request payloads (no frame header): random bytes, and valid requests with 1-3 mutations. */
export function payloadArb(target: Omit<Target, 'port' | 'ca'>): fc.Arbitrary<Uint8Array> {
  const password = fc.oneof(fc.constant(target.password), fc.string({ maxLength: 8 }));
  const valid = fc.tuple(password, requestArb(target as Target)).map(([pw, req]) => frameRequest(pw, req).subarray(4));
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    valid,
    fc.tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([bytes, ms]) => mutate(bytes, ms)),
  );
}

/**
 * Attacks. `maxOversized` bounds the claimed length of oversized prefixes:
 * the Rust server allocates whatever is claimed, so its run uses a smaller bound.
 */
export function attackArb(target: Target, options: { maxFrameSize: number; maxOversized: number }): fc.Arbitrary<Attack> {
  const password = fc.oneof(fc.constant(target.password), fc.string({ maxLength: 8 }));
  const valid = fc.tuple(password, requestArb(target)).map(([pw, req]) => frameRequest(pw, req).subarray(4));
  return fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }).map((payload) => ({ kind: 'random' as const, payload })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
        .map(([bytes, ms]) => ({ kind: 'mutated' as const, bytes: frame(mutate(bytes, ms)) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.nat())
        .map(([bytes, cut]) => {
          const whole = frame(bytes);
          return { kind: 'truncated' as const, bytes: whole.subarray(0, cut % whole.length) };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          claimed: fc.integer({ min: options.maxFrameSize + 1, max: Math.max(options.maxFrameSize + 1, options.maxOversized) }),
          tail: fc.uint8Array({ maxLength: 32 }),
        })
        .map((r) => ({ kind: 'oversized' as const, ...r })),
    },
  );
}

export function attackBytes(attack: Attack): Uint8Array {
  switch (attack.kind) {
    case 'random':
      return frame(attack.payload);
    case 'mutated':
    case 'truncated':
      return attack.bytes;
    case 'oversized': {
      const out = new Uint8Array(4 + attack.tail.length);
      new DataView(out.buffer).setUint32(0, attack.claimed, false);
      out.set(attack.tail, 4);
      return out;
    }
  }
}

/** Runs one attack; truncated and oversized ones end their side after writing (nothing more will come). */
export async function runAttack(target: Target, attack: Attack, timeoutMs: number): Promise<AttackResult> {
  const endAfterWrite = attack.kind === 'truncated' || attack.kind === 'oversized';
  const result: RawResult = await rawTls(target.port, target.ca, attackBytes(attack), { timeoutMs, endAfterWrite });
  if (result.outcome === 'timeout') return { attack, outcome: 'timeout' };
  if (result.bytes.length === 0) {
    return result.outcome === 'error'
      ? { attack, outcome: 'error', error: result.error ?? '' }
      : { attack, outcome: 'closed-without-answer' };
  }
  try {
    return { attack, outcome: 'answered', answer: decodeResponse(unframeResponse(result.bytes)).type };
  } catch (err) {
    return { attack, outcome: 'garbled-answer', error: String(err) };
  }
}

/** Runs `attacks` with `concurrency` connections at a time, stopping early after `timeLimitMs`. */
export async function runAttacks(
  target: Target,
  attacks: Attack[],
  options: { concurrency: number; timeLimitMs: number; attackTimeoutMs: number },
): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const deadline = Date.now() + options.timeLimitMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < attacks.length && Date.now() < deadline) {
      const index = next++;
      results.push({ index, ...(await runAttack(target, attacks[index]!, options.attackTimeoutMs)) });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return results;
}

/** `index: outcome[:answer]` per attack, in attack order, to compare two servers. */
export function outcomes(results: AttackResult[]): string[] {
  return results
    .slice()
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
    .map((r) => `${r.index}: ${r.outcome}${r.answer ? `:${r.answer}` : ''}`);
}

/** Counts by attack kind and outcome, for assertions and the report. */
export function tally(results: AttackResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = `${r.attack.kind}:${r.outcome}${r.answer ? `:${r.answer}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
