// `syncstate serve --ws-port`: the WebSocket port next to the TLS one, the
// password and a tokens file as tokens, and the flags it refuses.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { ForbiddenError, WebSocketRemote, type WebSocketConstructor } from '@syncstate-ts/remote';
import { kvEvent } from '../src/kv.js';
import { runCli, startServe, tempDir, type ServeProcess } from './helpers/cli.js';

const dir = tempDir('websocket');
let serve: ServeProcess;
let url: string;
let ca: string;
let password: string;

beforeAll(async () => {
  writeFileSync(join(dir.path, 'tokens'), '# who may connect\nbrowser-reader-0001 read\nbrowser-writer-0001 write events=Set\n');
  serve = await startServe(['--port', '0', '--memory', '--ws-port', '0', '--tokens', 'tokens'], { cwd: dir.path });
  url = /^websocket on (wss:\/\/\S+) \(subprotocol syncstate\.v1; tokens: the password, and 2 from tokens\)$/m.exec(serve.stdout())![1]!;
  ca = readFileSync(join(dir.path, '.syncstate', 'cert.pem'), 'utf8');
  password = readFileSync(join(dir.path, '.syncstate', 'password'), 'utf8').trim();
});
afterAll(async () => {
  await serve?.stop();
  dir.remove();
});

function remote(token: string): WebSocketRemote<string, string> {
  const Trusting = class extends WebSocket {
    constructor(address: string, protocols: string | string[]) {
      super(address, protocols, { ca });
    }
  } as unknown as WebSocketConstructor;
  return new WebSocketRemote({ url, token, key: kinds.string, value: kinds.string, WebSocket: Trusting });
}

describe('syncstate serve --ws-port', () => {
  it('serves the same maps over wss:// as over TLS, the password and the file\'s tokens as tokens', async () => {
    writeFileSync(join(dir.path, 'map.json'), '{"color": "red"}');
    const init = await runCli(['init', 'map.json', '-a', serve.address], { cwd: dir.path });
    expect(init.code).toBe(0);
    const hash = init.stdout.trim();

    const writer = remote('browser-writer-0001');
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote: writer });
    map.push('color', 'red');
    await map.freeze();
    expect(Buffer.from(map.hash()!).toString('hex')).toBe(hash);
    await writer.sendEvent(new Event(kvEvent, { type: 'Set', value: ['color', 'blue'] }), map.hash()!);
    await expect(writer.sendEvent(new Event(kvEvent, { type: 'SetMany', value: [['color', 'x']] }), map.hash()!)).rejects.toBeInstanceOf(ForbiddenError);

    const get = await runCli(['get', hash, 'color', '-a', serve.address], { cwd: dir.path });
    expect(get.stdout.trim()).toBe('blue');

    const reader = remote('browser-reader-0001');
    expect(await reader.connect()).toMatchObject({ readOnly: true });
    await expect(reader.sendEvent(new Event(kvEvent, { type: 'Set', value: ['color', 'green'] }), map.hash()!)).rejects.toBeInstanceOf(ForbiddenError);
    const admin = remote(password);
    expect(await admin.connect()).toMatchObject({ readOnly: false });
    const stranger = remote('not-a-token-at-all');
    await expect(stranger.connect()).rejects.toMatchObject({ name: 'AuthenticationError' });
    for (const r of [writer, reader, admin, stranger]) r.close();
  });

  it('refuses a bad tokens file, --ws-plain away from loopback, and --tokens without --ws-port (usage, exit 2)', async () => {
    writeFileSync(join(dir.path, 'bad-tokens'), 'short read\n');
    for (const args of [
      ['--ws-port', '0', '--tokens', 'bad-tokens'],
      ['--ws-port', '0', '--ws-plain', '--host', '0.0.0.0'],
      ['--tokens', 'tokens'],
      ['--ws-port', '0', '--tokens', 'missing-file'],
    ]) {
      const result = await runCli(['serve', '--port', '0', '--memory', ...args], { cwd: dir.path });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    }
  });
});
