// `serve --hooks module.mjs`: a user's event schema and hooks replace the
// built-in ones. The module is plain JavaScript with no imports: it gets the
// schema builders from serve. A TypeScript client sends its events.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { t } from '@syncstate-ts/codec';
import { Event, kinds } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { serveForTests } from './helpers/cli.js';

// A counter: Add(key, n) adds n to the key's decimal value; maps over 3 keys are refused.
const HOOKS = `
export default ({ t }) => ({
  event: t.enumOf({ Add: t.tuple(t.string, t.i64) }),
  hooks: [(map, event) => {
    const [key, n] = event.value;
    map.set(key, String(BigInt(map.get(key) ?? '0') + n));
  }],
  initHooks: [(map) => {
    if (map.size > 3) throw new Error('this server keeps at most 3 counters per map');
  }],
});
`;
const addEvent = t.enumOf({ Add: t.tuple(t.string, t.i64) });

const { dir, serve, cli } = serveForTests('hooks', { args: ['--hooks', 'counters.mjs'], files: { 'counters.mjs': HOOKS } });

describe('serve --hooks', () => {
  it('announces the module instead of the built-in events', () => {
    expect(serve().stdout()).toContain('syncstate serve: events and hooks from counters.mjs');
  });

  it("runs the module's hooks on the module's events", async () => {
    writeFileSync(join(dir.path, 'counters.json'), JSON.stringify({ apples: '1', pears: '0' }));
    const hash = (await cli('init', 'counters.json')).stdout.trim();
    const remote = new TcpStateRemote({
      address: serve().address,
      tls: { ca: readFileSync(join(dir.path, '.syncstate', 'cert.pem')) },
      password: readFileSync(join(dir.path, '.syncstate', 'password'), 'utf8').trim(),
      key: kinds.string,
      value: kinds.string,
    });
    const bytes = Uint8Array.from(Buffer.from(hash, 'hex'));
    await remote.sendEvent(new Event(addEvent, { type: 'Add', value: ['apples', 41n] }), bytes);
    await remote.sendEvent(new Event(addEvent, { type: 'Add', value: ['pears', -2n] }), bytes);
    expect(JSON.parse((await cli('get', hash)).stdout)).toEqual({ apples: '42', pears: '-2' });
  });

  it("an init hook's refusal reaches the CLI as the hook's message, exit 1", async () => {
    writeFileSync(join(dir.path, 'big.json'), JSON.stringify({ a: '0', b: '0', c: '0', d: '0' }));
    const result = await cli('init', 'big.json');
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'syncstate: the server refused to create the map: this server keeps at most 3 counters per map\n',
    });
  });
});
