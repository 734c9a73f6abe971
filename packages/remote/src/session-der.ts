/**
 * Takes the server certificate out of a TLS 1.3 session before it is kept.
 *
 * Node hands sessions out and back in OpenSSL's encoding (SSL_SESSION_ASN1 in
 * ssl/ssl_asn1.c: a DER SEQUENCE whose optional field [3] is the server's
 * certificate). Offering a session decodes it again, and decoding the
 * certificate's public key costs Node 20's OpenSSL 3.0 about 0.3 ms, more
 * than a resumed handshake saves. A resumed TLS 1.3 handshake needs no
 * certificate: the ticket's secret, which only the server verified on the
 * first handshake holds, authenticates it, and Node counts such a resumption
 * as authorized. TLS 1.2 sessions keep theirs (Node rejects them without).
 * Node 24 hands sessions out in a container of its own ("nodejs:tls:session:1"),
 * which this does not parse: such sessions are kept as they are.
 */

const SEQUENCE = 0x30;
/** Context-specific, constructed, tag number 3: `peer [3] EXPLICIT X509 OPTIONAL`. */
const PEER_CERTIFICATE = 0xa3;

/** `session` without its peer certificate; `session` itself when it holds none or does not parse as expected. */
export function withoutPeerCertificate(session: Buffer): Buffer {
  const outer = readHeader(session, 0);
  if (outer === undefined || outer.tag !== SEQUENCE || outer.end !== session.length) return session;
  const kept: Buffer[] = [];
  let found = false;
  for (let at = outer.bodyStart; at < outer.end; ) {
    const field = readHeader(session, at);
    if (field === undefined || field.end > outer.end) return session;
    if (field.tag === PEER_CERTIFICATE) found = true;
    else kept.push(session.subarray(at, field.end));
    at = field.end;
  }
  if (!found) return session;
  const body = Buffer.concat(kept);
  return Buffer.concat([Buffer.from([SEQUENCE]), encodeLength(body.length), body]);
}

interface Header {
  tag: number;
  bodyStart: number;
  end: number;
}

/** A DER element's tag and extent; undefined for multi-byte tags, indefinite or oversized lengths, or truncation. */
function readHeader(der: Buffer, at: number): Header | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  const first = der[at + 1]!;
  let length = first;
  let bodyStart = at + 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || bodyStart + n > der.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[bodyStart + i]!;
    bodyStart += n;
  }
  const end = bodyStart + length;
  return end <= der.length ? { tag, bodyStart, end } : undefined;
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
