export { rustlsTransport, type RustlsTransportOptions } from './transport.js';
export { addonPath, isAvailable } from './addon.js';
export { tcpQuickAck } from './quick-ack.js';
export { AddonUnavailableError, UnsupportedTlsOptionError } from './errors.js';
