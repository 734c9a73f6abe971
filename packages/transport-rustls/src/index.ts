export { rustlsTransport, type RustlsTransportOptions } from './transport.js';
export { addonPath, isAvailable } from './addon.js';
export { AddonUnavailableError, UnsupportedTlsOptionError } from './errors.js';
