export { createSelfSignedCertificate, type CertificateAndKey, type SelfSignedOptions } from './certificate.js';
export { createServer, SyncStateServer, type ServerOptions } from './server.js';
export { ProtocolHandler, type Answer, type ProtocolOptions } from './handler.js';
export { accessRefusal, FULL_ACCESS, READ_ONLY_ACCESS, type Access } from './access.js';
export { nodeTlsTransport, type NodeTlsOptions } from './transport/node-tls.js';
export type { ConnectionInfo, Transport, TransportContext, TransportFactory, TransportStats } from './transport/transport.js';
export { defaultLimits, type ServerLimits } from './limits/limits.js';
export { ByteBudget } from './limits/budget.js';
export { silentLogger, type Logger } from './logger.js';
export type { EventHook, HookContext, InitHook } from './registry/hooks.js';
export type { LoadedMap } from './registry/registry.js';
export type { MetricsSnapshot, RequestKind, ResponseKind } from './metrics.js';
export type { MapStorage } from '@syncstate-ts/storage';
export {
  errorMessage,
  FrameTooLargeError,
  HookError,
  HookExpiredError,
  MalformedRequestError,
  ServerClosedError,
  ServerError,
  ServerTimeoutError,
  type ServerErrorCode,
  type TimeoutPhase,
} from './errors.js';
