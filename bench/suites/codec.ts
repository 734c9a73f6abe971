// @syncstate-ts/codec against real bincode 2 (fixtures/src/bench_codec.rs), on
// identical data: (a) a diff of 10,000 × (32-byte key, 256-byte value)
// entries, alone (Vec<(Vec<u8>, Vec<u8>)>) and inside a Diff response;
// (b) a request wrapper carrying a 1 MiB event. Throughput in MB/s (10^6
// bytes of encoded form per second), best of several rounds.
import { decode, decodeRequestWrapper, decodeResponse, encode, encodeRequestWrapper, encodeResponse, t } from '@syncstate-ts/codec';
import type { RequestWrapper, Response } from '@syncstate-ts/codec';
import type { BenchRecord } from '../harness.ts';
import { bestTimeMs, higherIsBetter, runRustBench } from '../harness.ts';

const ROUNDS = 15;
const ENTRIES = 10_000;
const KEY_LEN = 32;
const VALUE_LEN = 256;
const EVENT_LEN = 1 << 20;

interface Measured {
  bytes: number;
  fnv1a: number;
  encodeMBps: number;
  decodeMBps: number;
}

interface RustCodecBench {
  entries: Measured;
  response: Measured;
  wrapper: Measured;
}

const entriesSchema = t.vec(t.tuple(t.bytes, t.bytes));

// Same data as bench_codec.rs.
function entries(): [Uint8Array, Uint8Array][] {
  return Array.from({ length: ENTRIES }, (_, i) => [
    Uint8Array.from({ length: KEY_LEN }, (_, j) => (i * 31 + j) & 0xff),
    Uint8Array.from({ length: VALUE_LEN }, (_, j) => (i * 7 + j * 13) & 0xff),
  ]);
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function measure<T>(name: string, value: T, enc: (v: T) => Uint8Array, dec: (b: Uint8Array) => T, rust: Measured): BenchRecord[] {
  const bytes = enc(value);
  // The comparison only means something if both sides produce the same bytes.
  if (bytes.length !== rust.bytes || fnv1a(bytes) !== rust.fnv1a) {
    throw new Error(`codec bench ${name}: TS encoding (${bytes.length} B) differs from Rust's (${rust.bytes} B)`);
  }
  const mbps = (ms: number) => bytes.length / (ms / 1e3) / 1e6;
  const encodeMs = bestTimeMs(() => void enc(value), ROUNDS);
  const decodeMs = bestTimeMs(() => void dec(bytes), ROUNDS);
  return [
    higherIsBetter(`codec: encode ${name}`, 'MB/s', mbps(encodeMs), rust.encodeMBps),
    higherIsBetter(`codec: decode ${name}`, 'MB/s', mbps(decodeMs), rust.decodeMBps),
  ];
}

export async function run(): Promise<BenchRecord[]> {
  const rust = runRustBench<RustCodecBench>(['codec', String(ROUNDS)]);
  const diff = entries();
  const encodedDiff = encode(entriesSchema, diff);
  const response: Response = { type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 10_000n, isFull: true, encodedDiff };
  const wrapper: RequestWrapper = {
    password: new TextEncoder().encode('bench-password'),
    request: {
      type: 'Event',
      hash: new Uint8Array(32).fill(0x42),
      eventData: Uint8Array.from({ length: EVENT_LEN }, (_, j) => (j * 131) & 0xff),
    },
  };
  const size = `10k×(${KEY_LEN}+${VALUE_LEN}) B`;
  return [
    ...measure(`diff entries ${size}`, diff, (v) => encode(entriesSchema, v), (b) => decode(entriesSchema, b), rust.entries),
    ...measure(`diff response ${size}`, response, encodeResponse, (b) => decodeResponse(b), rust.response),
    ...measure('request wrapper, 1 MiB event', wrapper, encodeRequestWrapper, (b) => decodeRequestWrapper(b), rust.wrapper),
  ];
}
