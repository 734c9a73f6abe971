export { createSelfSignedCertificate, type CertificateAndKey, type SelfSignedOptions } from './certificate.js';
export { createServer, SyncStateServer, type ServerOptions } from './server.js';
export { ProtocolHandler } from './handler.js';
export { nodeTlsTransport, type NodeTlsOptions } from './transport/node-tls.js';
export type { ConnectionInfo, Transport, TransportContext, TransportFactory, TransportStats } from './transport/transport.js';
export {
  defaultLimits,
  silentLogger,
  type EventHook,
  type HookContext,
  type InitHook,
  type Logger,
  type ProtocolOptions,
  type ServerLimits,
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
