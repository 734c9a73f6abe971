// Loads one build of the addon in whatever runs this file (this Node, Node for
// arm64 under qemu, Bun on musl) and serves one real TLS request with it:
//
//   <runtime> addon-smoke.cjs <file.node>     (CERT and KEY: PEM, in the environment)
//
// The client (node:tls) sends a frame, the listener hands its payload to
// JavaScript, which answers it reversed; the client checks the answer's frame.
// Prints one JSON line: the addon's exports, the TLS version, the answer, and
// the C libraries mapped into the process (which libc really ran it).
// Plain CommonJS, so that every runtime runs it as it is.
'use strict';
const { readFileSync } = require('node:fs');
const tls = require('node:tls');

const [file] = process.argv.slice(2);
const addon = require(file);
const { CERT: cert, KEY: key } = process.env;

const listener = new addon.RustlsListener(
  {
    host: '127.0.0.1',
    port: 0,
    cert: Buffer.from(cert),
    key: Buffer.from(key),
    tls12: true,
    tls13: true,
    maxFrameSize: 1 << 20,
    maxBufferedRequestBytes: 1 << 24,
    maxConnections: 16,
    handshakeTimeoutMs: 60_000,
    requestTimeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    drainTimeoutMs: 1_000,
    threads: 1,
  },
  (id, payload) => listener.respond(id, Buffer.from(payload).reverse()),
);

const payload = Buffer.from(`hello from ${process.arch} ${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`}`);
const frame = Buffer.alloc(4 + payload.length);
frame.writeUInt32BE(payload.length, 0);
payload.copy(frame, 4);

const socket = tls.connect({ host: '127.0.0.1', port: listener.port, ca: cert, servername: 'localhost' });
let received = Buffer.alloc(0);
socket.once('secureConnect', () => socket.write(frame));
socket.on('data', async (chunk) => {
  received = Buffer.concat([received, chunk]);
  if (received.length < 4 || received.length < 4 + received.readUInt32BE(0)) return;
  const answer = received.subarray(4, 4 + received.readUInt32BE(0)).toString();
  const protocol = socket.getProtocol();
  socket.destroy();
  await listener.close();
  const mapped = readFileSync('/proc/self/maps', 'utf8').split('\n').map((line) => line.split(/\s+/)[5]);
  const libc = [...new Set(mapped.filter((path) => path && /\/(libc[.-][^/]*|ld-[^/]*)$/.test(path)))];
  console.log(JSON.stringify({ exports: Object.keys(addon).sort(), protocol, sent: payload.toString(), answer, libc }));
});
socket.on('error', (err) => {
  console.error(`addon-smoke: ${err.message}`);
  process.exit(1);
});
