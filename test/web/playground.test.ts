import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, PAGE_MS, requireChromium } from '../support/browser.js';
import { startCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

/** Where the last run's screenshot is copied, for a person to look at. */
const SHARED_SCREENSHOT = '/tmp/playground-screenshot.png';

/** A page of the playground at `url`, failing the test on any script error of the page. */
async function openPlayground(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 }, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(`${url}/`);
  // From the home page, as a new user finds it.
  await page.getByRole('link', { name: 'Playground' }).click();
  await page.getByRole('heading', { name: 'Playground' }).waitFor({ timeout: PAGE_MS });
  return page;
}

/** Joins `room` of `namespace` as `name` (no name for a lobby) and waits for the page to say so. */
async function joinAs(page: Page, namespace: string, room: string, name?: string): Promise<void> {
  await page.getByLabel('Namespace').selectOption(namespace);
  await page.getByLabel(namespace === '/lobby' ? 'Lobby' : 'Room').fill(room);
  if (name !== undefined) await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page
    .getByRole('status')
    .getByText(`Joined ${namespace === '/lobby' ? `lobby ${room}` : room}`)
    .waitFor({ timeout: PAGE_MS });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

describe('the playground in a browser', function () {
  this.timeout(60_000);
  before(requireChromium('playground browser tests'));

  it('two pages join one room of /layout: each sees the other’s message and name', async () => {
    const cli = await startCli(['-p', '0', '-H', '127.0.0.1']);
    const browser = await launchChromium();
    const errors: string[] = [];
    const alice = await openPlayground(browser, cli.url, errors);
    const bob = await openPlayground(browser, cli.url, errors);

    await joinAs(alice, '/layout', 'stage', 'alice');
    await joinAs(bob, '/layout', 'stage', 'bob');
    const bobsMembers = bob.getByRole('list').filter({ has: bob.getByText('alice', { exact: true }) });
    await bobsMembers.getByText('bob', { exact: true }).waitFor({ timeout: PAGE_MS });

    await send(bob, 'hello from bob');
    await alice.getByRole('listitem').filter({ hasText: 'bob: hello from bob' }).waitFor({ timeout: PAGE_MS });
    // A message from someone makes the page ask who is there: alice now lists bob.
    await alice.locator('#members').getByText('bob', { exact: true }).waitFor({ timeout: PAGE_MS });
    await send(alice, 'hi bob');
    await bob.getByRole('listitem').filter({ hasText: 'alice: hi bob' }).waitFor({ timeout: PAGE_MS });
    await alice.getByRole('listitem').filter({ hasText: 'you: hi bob' }).waitFor({ timeout: PAGE_MS });

    expect(errors).to.deep.equal([]);
    const screenshot = join(await tempDir(), 'playground.png');
    await alice.screenshot({ path: screenshot, fullPage: true });
    await copyFile(screenshot, SHARED_SCREENSHOT);
  });

  it('over HTTPS with the self-signed certificate: lobby peers see each other join, talk and leave', async () => {
    const cli = await startCli(['-p', '0', '-H', '127.0.0.1', '--https', '--cert-dir', await tempDir()]);
    expect(cli.url).to.match(/^https:/);
    const browser = await launchChromium();
    const errors: string[] = [];
    const first = await openPlayground(browser, cli.url, errors);
    const second = await openPlayground(browser, cli.url, errors);

    await joinAs(first, '/lobby', 'call-1');
    await joinAs(second, '/lobby', 'call-1');
    const secondId = (await second.getByRole('status').textContent())?.match(/as (\S+)\.$/)?.[1] ?? '';
    expect(secondId).to.not.equal('');
    await first.locator('#members').getByText(secondId, { exact: true }).waitFor({ timeout: PAGE_MS });
    await first
      .getByRole('listitem')
      .filter({ hasText: `${secondId} joined` })
      .waitFor({ timeout: PAGE_MS });

    await send(second, 'can you hear me');
    await first
      .getByRole('listitem')
      .filter({ hasText: `${secondId}: can you hear me` })
      .waitFor({ timeout: PAGE_MS });
    await second.getByRole('listitem').filter({ hasText: 'you: can you hear me' }).waitFor({ timeout: PAGE_MS });

    await second.getByRole('button', { name: 'Leave' }).click();
    await first
      .getByRole('listitem')
      .filter({ hasText: `${secondId} left` })
      .waitFor({ timeout: PAGE_MS });
    await first.locator('#members').getByText(secondId, { exact: true }).waitFor({ state: 'detached', timeout: PAGE_MS });
    expect(errors).to.deep.equal([]);
  });
});
