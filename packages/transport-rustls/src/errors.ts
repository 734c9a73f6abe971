/** The addon was not built for this platform, or does not load. */
export class AddonUnavailableError extends Error {
  override name = 'AddonUnavailableError';
}

/** A `tls` server option that the rustls transport cannot honour (use the node:tls transport for it). */
export class UnsupportedTlsOptionError extends TypeError {
  override name = 'UnsupportedTlsOptionError';
}
