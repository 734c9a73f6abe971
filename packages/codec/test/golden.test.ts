// Conformance with the Rust crate: every case the fixture program captured
// from bincode 2.0.1 / syncstate 0.3.0 (fixtures/golden/{codec,protocol}.json).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  FrameReader,
  Reader,
  decode,
  decodeRequest,
  decodeRequestWrapper,
  decodeResponse,
  encode,
  encodeFrame,
  encodeRequest,
  encodeRequestWrapper,
  encodeResponse,
} from '@syncstate-ts/codec';
import type { DecodeErrorCode, Request, RequestWrapper, Response } from '@syncstate-ts/codec';
import { goldenDir } from '@syncstate-ts/testkit/rust-fixtures';
import { canon, fromHex, schemaOf, toHex, valueOf } from './golden-schema.js';
import type { TypeDesc } from './golden-schema.js';

interface Case {
  name: string;
  kind?: string;
  decode_only?: boolean;
  note?: string;
  type: TypeDesc;
  value: any;
  error?: string;
  bytes_read?: number;
  hex: string;
  framed_hex?: string;
}

function load(file: string): Case[] {
  const path = join(goldenDir, file);
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} is missing: run \`pnpm fixtures\` (the Rust fixture program writes it)`);
  }
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { source: string; cases: Case[] };
  expect(doc.source).toMatch(/bincode 2\.0\.1/);
  expect(doc.cases.length).toBeGreaterThan(0);
  return doc.cases;
}

const codecCases = load('codec.json');
const protocolCases = load('protocol.json');

/**
 * The DecodeError codes that correspond to a bincode error (its Debug text).
 * An error kind not listed here fails the test until it is mapped.
 */
function codesFor(rustError: string): DecodeErrorCode[] {
  const table: [RegExp, DecodeErrorCode[]][] = [
    [/^UnexpectedEnd\b/, ['truncated', 'length-exceeds-input']],
    [/^InvalidIntegerType\b/, ['invalid-varint-marker']],
    [/^InvalidBooleanValue\b/, ['invalid-bool']],
    [/^UnexpectedVariant \{ type_name: "Option<T>"/, ['invalid-option-tag']],
    [/expected variant index/, ['invalid-variant']],
    [/^Utf8\b/, ['invalid-utf8']],
    [/^InvalidCharEncoding\b/, ['invalid-char']],
  ];
  const hit = table.find(([re]) => re.test(rustError));
  if (hit === undefined) throw new Error(`unmapped bincode error: ${rustError}`);
  return hit[1];
}

/** Checks one case through the generic schema built from its Type descriptor. */
function checkGeneric(c: Case): void {
  const schema = schemaOf(c.type);
  const bytes = fromHex(c.hex);
  if (c.decode_only) {
    if (c.error !== undefined) {
      let thrown: unknown;
      try {
        decode(schema, bytes);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, `Rust rejected (${c.error}); we must too`).toBeInstanceOf(DecodeError);
      expect(codesFor(c.error), `our code for Rust's ${c.error}`).toContain((thrown as DecodeError).code);
    } else {
      const r = new Reader(bytes);
      expect(canon(schema.read(r))).toEqual(canon(valueOf(c.type, c.value)));
      expect(r.offset, 'bytes read').toBe(c.bytes_read);
    }
    return;
  }
  const value = valueOf(c.type, c.value);
  expect(toHex(encode(schema, value))).toBe(c.hex);
  const r = new Reader(bytes);
  expect(canon(schema.read(r))).toEqual(canon(value));
  expect(r.offset).toBe(bytes.length);
}

describe('golden codec.json', () => {
  it('covers encoding and decode-only cases', () => {
    expect(codecCases.some((c) => c.decode_only)).toBe(true);
    expect(codecCases.some((c) => !c.decode_only)).toBe(true);
  });
  for (const c of codecCases) {
    it(c.name, () => checkGeneric(c));
  }
});

// Golden values use Rust's names and shapes (snake_case, `event`, hash as a
// u8 array); the idiomatic protocol types use camelCase, `request`, Uint8Array.
function idiomatic(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 32 && v.every((x) => typeof x === 'number') ? Uint8Array.from(v) : v.map(idiomatic);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const name = k === 'event' ? 'request' : k === 'evt_data' ? 'eventData' : k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] = idiomatic(x);
  }
  return out;
}

const helpers: Record<string, { encode(v: any): Uint8Array; decode(b: Uint8Array): unknown }> = {
  request_wrapper: { encode: (v: RequestWrapper) => encodeRequestWrapper(v), decode: (b) => decodeRequestWrapper(b) },
  request: { encode: (v: Request) => encodeRequest(v), decode: (b) => decodeRequest(b) },
  response: { encode: (v: Response) => encodeResponse(v), decode: (b) => decodeResponse(b) },
};

describe('golden protocol.json', () => {
  it('covers every message kind', () => {
    const kinds = new Set(protocolCases.map((c) => c.kind));
    for (const k of ['request_wrapper', 'request', 'response', 'event', 'init_data', 'encoded_diff']) expect(kinds).toContain(k);
  });
  for (const c of protocolCases) {
    it(`${c.kind}: ${c.name}`, () => {
      checkGeneric(c);
      const bytes = fromHex(c.hex);
      const helper = c.kind === undefined ? undefined : helpers[c.kind];
      if (helper !== undefined) {
        if (c.decode_only && c.error !== undefined) {
          expect(() => helper.decode(bytes)).toThrow(DecodeError);
        } else {
          const value = idiomatic(valueOf(c.type, c.value));
          expect(canon(helper.decode(bytes))).toEqual(canon(value));
          if (!c.decode_only) expect(toHex(helper.encode(value))).toBe(c.hex);
        }
      }
      if (c.framed_hex !== undefined) {
        expect(toHex(encodeFrame(bytes))).toBe(c.framed_hex);
        const frames = new FrameReader().push(fromHex(c.framed_hex));
        expect(frames.map(toHex)).toEqual([c.hex]);
      }
    });
  }
});
