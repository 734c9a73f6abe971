/**
 * `tcpQuickAck(socket)`: TCP_QUICKACK for a socket Node owns, for
 * @syncstate-ts/server's node:tls transport, which cannot set it itself (Node
 * has no API for it). The rustls transport sets it on its own connections;
 * native/lib.rs (`quick_ack`) says why both need it.
 *
 *   createServer({ ..., transport: (context) => nodeTlsTransport(context, { quickAck: tcpQuickAck }) })
 */
import type { Socket } from 'node:net';
import { loadAddon } from './addon.js';

/** Throws AddonUnavailableError when the addon is missing; a socket that already closed is left alone. */
export function tcpQuickAck(socket: Socket): void {
  // Node keeps a socket's descriptor on its libuv handle; no public API exposes it.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return;
  try {
    loadAddon().setTcpQuickAck(fd);
  } catch (err) {
    if (socket.destroyed) return; // closed meanwhile: nothing left to acknowledge
    throw err;
  }
}
