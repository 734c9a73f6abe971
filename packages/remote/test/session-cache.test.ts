// The session cache's rules (newest first, once while others remain, bounded)
// and the certificate-stripping of stored TLS 1.3 sessions. The live tests
// in resumption.test.ts show real servers resuming what it keeps.
import { describe, expect, it } from 'vitest';
import { MAX_CACHED_SESSIONS, SessionCache } from '../src/session-cache.js';
import { withoutPeerCertificate } from '../src/session-der.js';

const blob = (n: number): Buffer => Buffer.from([n]); // not DER: kept as is

describe('SessionCache', () => {
  it('offers the newest session, each once while others remain, and the last one again', () => {
    const cache = new SessionCache();
    const [a, b, c] = [blob(1), blob(2), blob(3)];
    cache.add(a, 'TLSv1.3');
    cache.add(b, 'TLSv1.3');
    expect(cache.take()).toBe(b);
    expect(cache.take()).toBe(a);
    expect(cache.take()).toBe(a);
    cache.add(c, 'TLSv1.3');
    expect(cache.take()).toBe(c);
    expect(cache.take()).toBe(a);
  });

  it('forgets a session the server declined', () => {
    const cache = new SessionCache();
    const s = blob(1);
    cache.add(s, 'TLSv1.2');
    expect(cache.take()).toBe(s);
    expect(cache.take()).toBe(s);
    cache.discard(s);
    expect(cache.take()).toBeUndefined();
  });

  it(`keeps the latest ${MAX_CACHED_SESSIONS} sessions`, () => {
    const cache = new SessionCache();
    const sessions = Array.from({ length: MAX_CACHED_SESSIONS + 3 }, (_, i) => blob(i));
    for (const s of sessions) cache.add(s, 'TLSv1.3');
    expect(cache.size).toBe(MAX_CACHED_SESSIONS);
    const taken = Array.from({ length: MAX_CACHED_SESSIONS }, () => cache.take());
    expect(taken).toEqual(sessions.slice(3).reverse());
    cache.add(blob(9), 'TLSv1.3');
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('withoutPeerCertificate', () => {
  /** DER: tag, length (short or long form), body. */
  const der = (tag: number, body: Buffer): Buffer => {
    const n = body.length;
    const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...length]), body]);
  };
  const version = der(0x02, Buffer.from([1]));
  const time = der(0xa1, der(0x02, Buffer.from([5])));
  const peer = der(0xa3, der(0x30, Buffer.alloc(300, 7))); // a "certificate" long enough for long-form lengths
  const verifyResult = der(0xa5, der(0x02, Buffer.from([0])));

  it('drops field [3] and re-encodes the outer length', () => {
    const session = der(0x30, Buffer.concat([version, time, peer, verifyResult]));
    expect(session.subarray(0, 2)).toEqual(Buffer.from([0x30, 0x82]));
    expect(withoutPeerCertificate(session)).toEqual(der(0x30, Buffer.concat([version, time, verifyResult])));
  });

  it('returns the session itself when there is nothing to drop or it does not parse', () => {
    const noPeer = der(0x30, Buffer.concat([version, time, verifyResult]));
    const withPeer = der(0x30, Buffer.concat([version, peer]));
    for (const session of [
      noPeer,
      Buffer.alloc(0),
      Buffer.from([0x30]),
      der(0x31, Buffer.concat([version, peer])), // not a SEQUENCE
      withPeer.subarray(0, withPeer.length - 1), // truncated
      Buffer.concat([withPeer, Buffer.from([0])]), // trailing byte
      der(0x30, Buffer.concat([version, Buffer.from([0xbf, 0x81, 0x00, 0x00]), peer])), // multi-byte tag
      der(0x30, Buffer.concat([version, Buffer.from([0xa3, 0x80]), peer])), // indefinite length
    ]) {
      expect(withoutPeerCertificate(session)).toBe(session);
    }
  });
});
