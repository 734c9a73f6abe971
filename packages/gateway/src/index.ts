// @syncstate-ts/gateway: a WebSocket gateway in front of a syncstate 0.3.0
// server (Rust's TcpStateServer, or ours): browsers connect with tokens, each
// request is relayed upstream as one TLS request with the gateway's own
// password, and subscribed maps are polled upstream once per map to push
// their new update ids.

export { Gateway, gatewayService, startGateway, type GatewayOptions, type GatewayStats } from './gateway.js';
export { Relay, initDataHash, type RelayOptions } from './relay.js';
export { Upstream, DEFAULT_MAX_UPSTREAM_CONNECTIONS, type RequestSender, type UpstreamOptions } from './upstream.js';
export { UpstreamWatcher, DEFAULT_MAX_POLLED_MAPS, DEFAULT_POLL_INTERVAL_MS, type WatcherOptions } from './watcher.js';
export { RelayError, type RelayErrorCode } from './errors.js';
