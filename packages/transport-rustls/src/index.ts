export { rustlsTransport, type RustlsTransportOptions } from './transport.js';
export { ADDON_ENV, addonPath, isAvailable } from './addon.js';
export { currentPlatform, PLATFORM_PACKAGES } from './platform.js';
export { tcpQuickAck } from './quick-ack.js';
export { AddonUnavailableError, UnsupportedTlsOptionError } from './errors.js';
