// One syncstate request over TLS, as every client does it (connect, one
// frame, the answer, close), with nothing else: the heavy-maps suite times
// these and must not depend on a client package's own behaviour.
import { connect } from 'node:tls';
import { decodeResponse, encodeFrame, encodeRequestWrapper, FrameReader, type Request, type Response } from '@syncstate-ts/codec';

export interface Target {
  port: number;
  /** The server's certificate (IP SAN 127.0.0.1, as Rust clients need). */
  ca: string;
  password: Uint8Array;
}

/** The encoded request frame (encode ahead to keep the encoding out of a timing). */
export function frameOf(target: Target, request: Request): Uint8Array {
  return encodeFrame(encodeRequestWrapper({ password: target.password, request }));
}

/** Sends a frame, resolves with the decoded answer; rejects if the server closes without one. */
export function send(target: Target, frame: Uint8Array): Promise<Response> {
  return new Promise((resolve, reject) => {
    const frames = new FrameReader({ maxFrameSize: 2 ** 31 });
    const socket = connect({ host: '127.0.0.1', port: target.port, ca: target.ca }, () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      const [answer] = frames.push(chunk);
      if (answer === undefined) return;
      socket.destroy();
      resolve(decodeResponse(answer));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`127.0.0.1:${target.port} closed without an answer`)));
  });
}

/** send() of a request. */
export function ask(target: Target, request: Request): Promise<Response> {
  return send(target, frameOf(target, request));
}
