// `syncstate gateway` as a user runs it, in front of the real Rust server:
// the upstream password read like the client commands read it, tokens from a
// file, and its refusals (bad tokens file, wrong upstream password).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { t } from '@syncstate-ts/codec';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { ForbiddenError, TcpStateRemote, WebSocketRemote, type WebSocketConstructor } from '@syncstate-ts/remote';
import { startRustServer, type RustServer } from '@syncstate-ts/testkit/rust';
import { startSyncstate, type RunningCommand } from '@syncstate-ts/testkit/syncstate-cli';
import { runCli, tempDir } from './helpers/cli.js';

const kvSet = t.enumOf({ Set: t.tuple(t.string, t.string) });
const dir = tempDir('gateway');
let rust: RustServer;
let gateway: RunningCommand;

beforeAll(async () => {
  rust = await startRustServer();
  writeFileSync(join(dir.path, 'upstream.pem'), rust.cert);
  writeFileSync(join(dir.path, 'upstream-password'), `${rust.password}\n`);
  writeFileSync(join(dir.path, 'tokens'), '# browsers\neditor-abcdef123456 write\nreader-abcdef123456 read\n');
  gateway = await startSyncstate(
    ['gateway', '--upstream', `127.0.0.1:${rust.port}`, '--ca', 'upstream.pem', '--password-file', 'upstream-password', '--tokens', 'tokens', '--port', '0', '--log-level', 'warn'],
    /^listening on (ws:\/\/127\.0\.0\.1:\d+\/)$/,
    { cwd: dir.path },
  );
});
afterAll(async () => {
  await gateway?.stop();
  await rust?.stop();
  dir.remove();
});

function browser(token: string): WebSocketRemote<string, string> {
  return new WebSocketRemote({ url: gateway.match[1]!, token, key: kinds.string, value: kinds.string, WebSocket: WebSocket as unknown as WebSocketConstructor });
}

describe('syncstate gateway', () => {
  it('says where it relays to and that the upstream took its password', () => {
    expect(gateway.stdout()).toMatch(/^syncstate gateway: upstream 127\.0\.0\.1:\d+; 2 tokens from tokens; events checked as the built-in key-value events \(Set, SetMany\)\n/);
    expect(gateway.stdout()).toMatch(/up, password accepted/);
  });

  it('relays a token holder\'s map and events to the Rust server', async () => {
    const editor = browser('editor-abcdef123456');
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote: editor });
    map.push('color', 'red');
    await map.freeze();
    await editor.sendEvent(new Event(kvSet, { type: 'Set', value: ['color', 'blue'] }), map.hash()!);
    // Seen directly on the Rust server over TLS.
    const direct = new TcpStateRemote({ port: rust.port, tls: { ca: rust.cert }, password: rust.password, key: kinds.string, value: kinds.string });
    const copy = new StateMap({ key: kinds.string, value: kinds.string, remote: direct });
    copy.push('color', 'red');
    await copy.freeze();
    for (let i = 0; copy.get('color') !== 'blue'; i++) {
      if (i > 100) throw new Error('the change never reached the Rust server');
      await direct.sync(copy);
      await new Promise((r) => setTimeout(r, 20));
    }
    const reader = browser('reader-abcdef123456');
    await expect(reader.sendEvent(new Event(kvSet, { type: 'Set', value: ['color', 'green'] }), map.hash()!)).rejects.toBeInstanceOf(ForbiddenError);
    editor.close();
    reader.close();
  });

  it('refuses to start with the wrong upstream password (exit 3), a bad tokens file or none (exit 2)', async () => {
    writeFileSync(join(dir.path, 'wrong-password'), 'not-it\n');
    writeFileSync(join(dir.path, 'short-tokens'), 'short write\n');
    const common = ['gateway', '--upstream', `127.0.0.1:${rust.port}`, '--ca', 'upstream.pem', '--port', '0'];
    const [wrong, short, none] = await Promise.all([
      runCli([...common, '--password-file', 'wrong-password', '--tokens', 'tokens'], { cwd: dir.path }),
      runCli([...common, '--password-file', 'upstream-password', '--tokens', 'short-tokens'], { cwd: dir.path }),
      runCli([...common, '--password-file', 'upstream-password'], { cwd: dir.path }),
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/rejected the password/);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--tokens short-tokens, line 1: a token needs at least 12 characters/);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--tokens/);
  });
});
