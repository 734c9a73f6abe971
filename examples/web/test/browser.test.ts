// The example web page (examples/web, built with Vite as shipped) in a real
// browser: Debian's Chromium, driven by playwright-core. It talks to a real
// `syncstate serve --ws-port` and, through a real `syncstate gateway`, to the
// Rust crate's own server. Two pages edit one map and each sees the other's
// change; a read-only token's edit is refused with a visible typed error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { t } from '@syncstate-ts/codec';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { launchChromium, type Page, type TestBrowser } from '@syncstate-ts/testkit/chromium';
import { startRustServer, type RustServer } from '@syncstate-ts/testkit/rust';
import { startSyncstate, type RunningCommand } from '@syncstate-ts/testkit/syncstate-cli';
import { buildExample } from '../scripts/build.ts';
import { serveStatic, type StaticServer } from '../scripts/static.ts';

const EDITOR = 'editor-token-for-the-browser';
const READER = 'reader-token-for-the-browser';
/** A stall guard for what a page should show, not a timing. */
const SHOWN_WITHIN_MS = 15_000;

const dir = mkdtempSync(join(tmpdir(), 'syncstate-browser-'));
let web: StaticServer;
let serve: RunningCommand;
let rust: RustServer;
let gateway: RunningCommand;
let chromium: TestBrowser;

beforeAll(async () => {
  writeFileSync(join(dir, 'tokens'), `${EDITOR} write\n${READER} read\n`);
  const [dist, rustServer, browser] = await Promise.all([buildExample(join(dir, 'dist')), startRustServer(), launchChromium()]);
  rust = rustServer;
  chromium = browser;
  web = await serveStatic(dist);
  writeFileSync(join(dir, 'rust.pem'), rust.cert);
  writeFileSync(join(dir, 'rust-password'), rust.password);
  [serve, gateway] = await Promise.all([
    startSyncstate(
      ['serve', '--data', join(dir, 'data'), '--memory', '--port', '0', '--ws-port', '0', '--ws-plain', '--tokens', join(dir, 'tokens'), '--log-level', 'warn'],
      /websocket on (ws:\/\/\S+)/,
    ),
    startSyncstate(
      ['gateway', '--upstream', `127.0.0.1:${rust.port}`, '--ca', join(dir, 'rust.pem'), '--password-file', join(dir, 'rust-password'), '--tokens', join(dir, 'tokens'), '--port', '0', '--poll-interval', '100ms', '--log-level', 'warn'],
      /^listening on (ws:\/\/\S+)$/,
    ),
  ]);
});
afterAll(async () => {
  await chromium?.close();
  await Promise.all([web?.close(), serve?.stop(), gateway?.stop(), rust?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the page on `map`, with the settings in its fragment, and waits until it is live. */
async function openPage(url: string, token: string, map: Record<string, string>): Promise<Page> {
  const page = await chromium.context.newPage();
  const failures: string[] = [];
  page.on('pageerror', (err) => failures.push(err.message));
  await page.goto(`${web.url}#url=${encodeURIComponent(url)}&token=${token}&map=${encodeURIComponent(JSON.stringify(map))}`);
  try {
    await page.waitForSelector('body[data-state=live]', { timeout: SHOWN_WITHIN_MS });
  } catch (err) {
    throw new Error(`the page did not go live: status "${await page.textContent('#status')}", error "${await page.textContent('#error')}" ${failures.join('; ')}`, { cause: err });
  }
  return page;
}

async function edit(page: Page, key: string, value: string): Promise<void> {
  await page.selectOption('#key', key);
  await page.fill('#value', value);
  await page.click('#set');
}

/** Waits until the page's table shows `value` for `key`. */
async function shows(page: Page, key: string, value: string): Promise<void> {
  await page.waitForFunction(
    ([k, v]) => document.querySelector(`#pairs tr[data-key="${k}"] td.value`)?.textContent === v,
    [key, value] as const,
    { timeout: SHOWN_WITHIN_MS },
  );
}

const valueOf = (page: Page, key: string): Promise<string | null> => page.textContent(`#pairs tr[data-key="${key}"] td.value`);

describe('the example page in Chromium', () => {
  it('two pages on one map of `syncstate serve` see each other\'s edits', async () => {
    const map = { color: 'red', size: 'M', test: 'two pages' };
    const a = await openPage(serve.match[1]!, EDITOR, map);
    const b = await openPage(serve.match[1]!, EDITOR, map);
    expect(await valueOf(b, 'color')).toBe('red');

    await edit(a, 'color', 'blue');
    await shows(b, 'color', 'blue');
    await edit(b, 'size', 'L');
    await shows(a, 'size', 'L');
    await shows(a, 'color', 'blue');
    expect(await a.textContent('#update-id')).toBe('2');
    expect(await b.textContent('#update-id')).toBe('2');
    await Promise.all([a.close(), b.close()]);
  });

  it('a page through `syncstate gateway` edits a map on the Rust server, and sees a Rust client\'s change', async () => {
    const map = { color: 'red', size: 'M', test: 'gateway' };
    const page = await openPage(gateway.match[1]!, EDITOR, map);
    await edit(page, 'color', 'green');
    await shows(page, 'color', 'green');

    // The Rust server has it, seen over TLS with its password (which the page never had).
    const direct = new TcpStateRemote({ port: rust.port, tls: { ca: rust.cert }, password: rust.password, key: kinds.string, value: kinds.string });
    const copy = new StateMap({ key: kinds.string, value: kinds.string, remote: direct });
    for (const [k, v] of Object.entries(map)) copy.push(k, v);
    await copy.freeze();
    await direct.sync(copy);
    expect(copy.get('color')).toBe('green');

    // A change made directly on the Rust server reaches the page (the gateway polls, then pushes).
    const kvSet = t.enumOf({ Set: t.tuple(t.string, t.string) });
    await direct.sendEvent(new Event(kvSet, { type: 'Set', value: ['size', 'XL'] }), copy.hash()!);
    await shows(page, 'size', 'XL');
    await page.close();
  });

  it('a read-only token shows the map, and its edit is refused with a visible ForbiddenError', async () => {
    const map = { color: 'red', test: 'read only' };
    const editor = await openPage(serve.match[1]!, EDITOR, map); // creates the map: a reader may not
    const reader = await openPage(serve.match[1]!, READER, map);
    expect(await reader.textContent('#status')).toMatch(/read only/);

    await edit(reader, 'color', 'black');
    await reader.waitForSelector('#error:not([hidden])', { timeout: SHOWN_WITHIN_MS });
    expect(await reader.getAttribute('#error', 'data-code')).toBe('forbidden');
    expect(await reader.textContent('#error')).toMatch(/^ForbiddenError \(forbidden\): .*read only/);
    expect(await valueOf(reader, 'color')).toBe('red');

    // The editor's change still reaches the reader.
    await edit(editor, 'color', 'white');
    await shows(reader, 'color', 'white');
    await Promise.all([editor.close(), reader.close()]);
  });
});
