// SHA-256 for the map hash. In Node, node:crypto's (OpenSSL, with the CPU's
// SHA instructions: ~20x noble's throughput here, and the hash was half of
// freeze), reached through `process.getBuiltinModule` (Node >= 20.16) so that
// this module imports nothing from Node and bundles for browsers unchanged.
// Elsewhere (browsers, runtimes without getBuiltinModule) @noble/hashes.
// WebCrypto is no substitute: its digest is async and one-shot, and freeze
// hashes synchronously.

import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export interface Sha256 {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

interface NodeHash {
  update(bytes: Uint8Array): NodeHash;
  digest(): Uint8Array;
}

type CreateHash = (algorithm: 'sha256') => NodeHash;

declare const globalThis: {
  process?: { getBuiltinModule?: (id: string) => { createHash?: CreateHash } | undefined };
};

function findNodeCreateHash(): CreateHash | undefined {
  try {
    const createHash = globalThis.process?.getBuiltinModule?.('node:crypto')?.createHash;
    return typeof createHash === 'function' ? createHash : undefined;
  } catch {
    return undefined; // a runtime that has the function but refuses the module
  }
}

const nodeCreateHash = findNodeCreateHash();

/** A noble SHA-256 (the portable implementation; also what tests compare the native one with). */
export function createPortableSha256(): Sha256 {
  const h = nobleSha256.create();
  return { update: (b) => void h.update(b), digest: () => h.digest() };
}

/** The fastest SHA-256 this runtime offers. */
export function createSha256(): Sha256 {
  if (nodeCreateHash === undefined) return createPortableSha256();
  const h = nodeCreateHash('sha256');
  return {
    update: (b) => void h.update(b),
    // A Buffer from Node; callers get a plain Uint8Array like noble's.
    digest: () => {
      const d = h.digest();
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
    },
  };
}

/** Which implementation createSha256 uses ('node:crypto' or 'noble'), for tests and benchmarks. */
export const sha256Implementation: 'node:crypto' | 'noble' = nodeCreateHash === undefined ? 'noble' : 'node:crypto';
