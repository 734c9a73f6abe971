/**
 * Self-signed TLS certificates that Rust syncstate clients accept.
 *
 * rustls verifies the server against the IP address it dialed, so the
 * certificate carries an IP subject-alternative-name (127.0.0.1 by default)
 * besides DNS `localhost`; CA:false, as the crate's own test certificate.
 */
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

export interface SelfSignedOptions {
  /** DNS names for the subject-alternative-name extension (default `['localhost']`). */
  dnsNames?: readonly string[];
  /** IP addresses for the subject-alternative-name extension (default `['127.0.0.1']`). */
  ipAddresses?: readonly string[];
  /** Validity in days from now (default 365). */
  days?: number;
  /** Common name (default the first DNS name). */
  commonName?: string;
}

export interface CertificateAndKey {
  /** PEM certificate; use it as the server certificate and as the client's trusted root. */
  cert: string;
  /** PEM PKCS#8 private key (ECDSA P-256). */
  key: string;
}

const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// @peculiar/x509 types its crypto parameter with the DOM `Crypto`, which Node's webcrypto implements.
type X509Crypto = NonNullable<Parameters<typeof X509.X509CertificateGenerator.createSelfSigned>[1]>;

/**
 * @peculiar/x509, loaded on first use: it resolves its ASN.1 services through
 * tsyringe, which needs the `reflect-metadata` polyfill on the global
 * `Reflect`. Importing @syncstate-ts/server must not change a global, so only
 * generating a certificate installs it.
 */
async function loadX509(): Promise<typeof X509> {
  await import('reflect-metadata');
  return import('@peculiar/x509');
}

export async function createSelfSignedCertificate(options: SelfSignedOptions = {}): Promise<CertificateAndKey> {
  const x509 = await loadX509();
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1'];
  const days = options.days ?? 365;
  const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0] ?? 'syncstate';
  const crypto = webcrypto;

  const keys = await crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000); // tolerate small clock skew
  const notAfter = new Date(Date.now() + days * 86_400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${commonName}`,
      notBefore,
      notAfter,
      signingAlgorithm: keyAlgorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ]),
      ],
    },
    crypto as unknown as X509Crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    cert: cert.toString('pem'),
    key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}
