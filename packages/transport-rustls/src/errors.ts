import { SyncstateError } from '@syncstate-ts/codec';

/** No addon loads in this process: none was built for its platform, its package is not installed, or the file does not load. */
export class AddonUnavailableError extends SyncstateError<'addon-unavailable'> {
  override readonly name = 'AddonUnavailableError';
  /** This process's platform, named as the platform packages are: `linux-x64-gnu`, `darwin-arm64`, … */
  readonly platform: string;

  constructor(platform: string, message: string, options?: { cause?: unknown }) {
    super('addon-unavailable', message, options);
    this.platform = platform;
  }
}

/** A `tls` server option that the rustls transport cannot honour (use the node:tls transport for it). */
export class UnsupportedTlsOptionError extends TypeError {
  override name = 'UnsupportedTlsOptionError';
}
