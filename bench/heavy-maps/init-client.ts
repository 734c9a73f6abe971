// The client that sends the heavy-maps suite's big Init, in its own process:
// building a million pairs, hashing them and pushing 24 MB through TLS would
// otherwise stall the suite's own event loop, and with it the small requests
// it times. Forked with an IPC channel:
//   parent -> { pairs }                   once: build the map and its init data
//   child  -> { type: 'ready', hash }     the map's hash (hex)
//   parent -> { port, ca, password }      send the Init to this server
//   child  -> { type: 'answered', ms, answer } or { type: 'failed', message }
import { kinds, StateMap, encodeInitData } from '@syncstate-ts/core';
import { frameOf, send, type Target } from './request.ts';

interface Build {
  pairs: number;
}

interface Go {
  port: number;
  ca: string;
  password: string;
}

let frame: ((target: Target) => Uint8Array) | undefined;

process.on('message', (message: Build | Go) => {
  if ('pairs' in message) {
    const map = new StateMap({ key: kinds.string, value: kinds.string });
    for (let i = 0; i < message.pairs; i++) map.push(`key-${i}`, `value-${i}`);
    void map.freeze().then(() => {
      const hash = map.hash()!;
      const initData = encodeInitData(map);
      frame = (target) => frameOf(target, { type: 'Init', hash, initData });
      process.send!({ type: 'ready', hash: Buffer.from(hash).toString('hex') });
    });
    return;
  }
  const target: Target = { port: message.port, ca: message.ca, password: new TextEncoder().encode(message.password) };
  const bytes = frame!(target);
  const t0 = performance.now();
  send(target, bytes).then(
    (answer) => process.send!({ type: 'answered', ms: performance.now() - t0, answer: answer.type }),
    (err: unknown) => process.send!({ type: 'failed', message: (err as Error).message }),
  );
});
