// A real browser for the tests: Debian's Chromium (`apt-get install chromium`,
// which .ci/run does), driven by playwright-core through the executable's own
// path. playwright-core never downloads a browser; nothing here fetches one.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian's package puts it; SYNCSTATE_CHROMIUM overrides. */
export const CHROMIUM_PATH = process.env.SYNCSTATE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a quiet, reproducible headless run: no sandbox (CI runs as root),
 * no GPU, no QUIC, and none of the background traffic a first run starts
 * (updates, sync, component downloads): the tests' only network is loopback.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  /** The browser's one profile: `context.newPage()` opens a tab. */
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh profile (--user-data-dir) in a temporary folder
 * (playwright-core takes that flag only as launchPersistentContext's argument).
 */
export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set SYNCSTATE_CHROMIUM)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'syncstate-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { BrowserContext, Page } from 'playwright-core';
