// A real Rust client (syncstate 0.3.0 `TcpStateRemote`, the fixture
// program's client mode) against `syncstate serve` with its built-in
// key-value events, using only what serve generated: its certificate and
// password. The CLI's own commands read and write the same map.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { serveForTests } from './helpers/cli.js';

const { dir, serve, cli } = serveForTests('rust');
let rust: RustClient;

beforeAll(() => {
  const data = join(dir.path, '.syncstate');
  rust = RustClient.start({
    port: serve().port,
    rootCert: readFileSync(join(data, 'cert.pem'), 'utf8'),
    password: readFileSync(join(data, 'password'), 'utf8').trim(),
  });
});
afterAll(async () => {
  await rust?.close();
});

describe('a Rust client and the CLI on one map', () => {
  let hash: string;

  it('Rust creates the map (freeze → Init); the CLI finds it by hash', async () => {
    await rust.ok({ op: 'new', id: 'm', pairs: [['greeting', 'hello'], ['count', '0']] });
    const frozen = await rust.ok<{ hash: string; update_id: string }>({ op: 'freeze', id: 'm' });
    hash = frozen.hash;
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ count: '0', greeting: 'hello' });
  });

  it("Rust's Set and SetMany events are applied by serve's built-in hook", async () => {
    await rust.ok({ op: 'send_event', id: 'm', event: { Set: ['greeting', 'hi from Rust'] } });
    await rust.ok({ op: 'send_event', id: 'm', event: { SetMany: [['greeting', 'batch'], ['count', '2']] } });
    // Reads wait for events accepted before them, so the CLI sees both at once.
    const status = await cli('status', hash);
    expect(status.stdout).toContain(`map ${hash}: update id 2`);
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ count: '2', greeting: 'batch' });
  });

  it("the CLI's set reaches the Rust map through GetDiff", async () => {
    expect((await cli('set', hash, 'count=3')).code).toBe(0);
    expect((await cli('set', hash, 'greeting=from the CLI', 'count=4')).code).toBe(0);
    expect(await rust.ok({ op: 'set_update_id', id: 'm', target: '4' })).toEqual({ update_id: '4' });
    const got = await rust.ok<{ pairs: Array<[string, string]> }>({ op: 'get', id: 'm' });
    expect(got.pairs).toEqual([
      ['count', '4'],
      ['greeting', 'from the CLI'],
    ]);
  });

  it('a map the CLI creates is the one a Rust client with the same pairs syncs', async () => {
    writeFileSync(join(dir.path, 'shared.json'), JSON.stringify({ b: '2', a: '1' }));
    const init = await cli('init', 'shared.json');
    await cli('set', 'shared.json', 'a=changed');
    await rust.ok({ op: 'new', id: 's', pairs: [['a', '1'], ['b', '2']] });
    const frozen = await rust.ok<{ hash: string }>({ op: 'freeze', id: 's' });
    expect(frozen.hash).toBe(init.stdout.trim());
    await rust.ok({ op: 'set_update_id', id: 's', target: '1' });
    expect((await rust.ok<{ pairs: unknown }>({ op: 'get', id: 's' })).pairs).toEqual([
      ['a', 'changed'],
      ['b', '2'],
    ]);
  });

  it('variants beyond the built-in two are not decoded: the connection closes unanswered, the map is unchanged', async () => {
    const failed = await rust.err({ op: 'send_event', id: 'm', event: 'Noop' });
    expect(failed.debug).toContain('UnexpectedEof'); // the Rust client reads end of stream
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ count: '4', greeting: 'from the CLI' });
  });
});
