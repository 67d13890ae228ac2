import { existsSync } from 'node:fs';
import type { Context } from 'mocha';
import { chromium, type Browser } from 'playwright-core';
import { requireBinary } from './binaries.js';
import { onTeardown } from './teardown.js';

/** Debian's Chromium, which .ci/run installs. */
export const CHROMIUM = '/usr/bin/chromium';

/** How long a page condition may take: a page loads its script and connects. */
export const PAGE_MS = 20_000;

/** A mocha `before` hook that skips `suite`, loudly, where Chromium is not installed (CI installs it). */
export function requireChromium(suite: string): (this: Context) => void {
  return requireBinary(existsSync(CHROMIUM) ? CHROMIUM : undefined, suite, 'chromium');
}

/**
 * Launches headless Chromium, closed after the current test. The flags keep it off the network this machine
 * does not have (background updates, sync, QUIC) and let it run as root without a GPU.
 */
export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  onTeardown(() => browser.close());
  return browser;
}
