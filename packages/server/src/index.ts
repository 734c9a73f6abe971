export { createSelfSignedCertificate, type CertificateAndKey, type SelfSignedOptions } from './certificate.js';
export { createServer, SyncStateServer } from './server.js';
export { ProtocolHandler, type ConnectionInfo } from './handler.js';
export { nodeTlsTransport, type NodeTlsOptions } from './transport/node-tls.js';
export type { Transport, TransportContext, TransportFactory, TransportStats } from './transport/transport.js';
export {
  defaultLimits,
  silentLogger,
  type EventHook,
  type HookContext,
  type InitHook,
  type Logger,
  type ProtocolOptions,
  type ServerLimits,
  type ServerOptions,
} from './limits/options.js';
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
