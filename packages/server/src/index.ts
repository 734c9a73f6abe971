export { createSelfSignedCertificate, type CertificateAndKey, type SelfSignedOptions } from './certificate.js';
export { createServer, SyncStateServer, type ServerOptions } from './server.js';
export { ProtocolHandler, type ProtocolOptions } from './handler.js';
export { nodeTlsTransport, type NodeTlsOptions } from './transport/node-tls.js';
export type { ConnectionInfo, Transport, TransportContext, TransportFactory, TransportStats } from './transport/transport.js';
export { defaultLimits, type ServerLimits } from './limits/limits.js';
export { silentLogger, type Logger } from './logger.js';
export type { EventHook, HookContext, InitHook } from './registry/hooks.js';
export type { MetricsSnapshot, RequestKind, ResponseKind } from './metrics.js';
export { MemoryStorage, type MapStorage } from './registry/storage.js';
export {
  errorMessage,
  FrameTooLargeError,
  HookError,
  HookExpiredError,
  ProtocolError,
  ServerClosedError,
  ServerError,
  TimeoutError,
  type ServerErrorCode,
  type TimeoutPhase,
} from './errors.js';
