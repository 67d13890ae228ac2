import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { launchChromium, PAGE_MS, requireChromium } from '../support/browser.js';
import { startCli } from '../support/cli.js';
import { connectV4, idOf } from '../support/server.js';
import { tempDir } from '../support/temp.js';
import { ack } from '../support/wait.js';

const PASSWORD = 'browser-secret';
/** Where the last run's screenshot is copied, for a person to look at. */
const SHARED_SCREENSHOT = '/tmp/admin-ui-screenshot.png';

describe('admin UI in a browser', function () {
  this.timeout(60_000);
  before(requireChromium('Admin UI browser test'));

  it('logs in with the connection form and lists the sockets of /layout with their ids', async () => {
    const cli = await startCli(['-p', '0', '-H', '127.0.0.1'], { env: { ADMIN_PASSWORD: PASSWORD, ADMIN_MODE: 'development' } });
    const clients = await Promise.all([0, 1, 2].map(() => connectV4(`${cli.url}/layout`)));
    for (const [i, client] of clients.entries())
      expect(await ack(client, 'JOIN', { room: `stage-${i % 2}`, name: `tv-${i}` })).to.deep.equal({ ok: true });

    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(cli.url)) outside.push(req.url());
    });
    const fonts: string[] = [];
    page.on('response', (res) => {
      if (res.url().includes('/admin/mdi/fonts/') && res.status() === 200) fonts.push(res.url());
    });
    await page.goto(`${cli.url}/admin`);
    await page.getByLabel('Server URL').fill(cli.url, { timeout: PAGE_MS });
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText('connected', { exact: true }).first().waitFor({ timeout: PAGE_MS });

    await page.getByRole('link', { name: 'Sockets' }).click();
    await page.getByLabel('Namespace').first().click({ force: true, timeout: PAGE_MS });
    await page.getByRole('option', { name: '/layout' }).click({ timeout: PAGE_MS });
    for (const client of clients) await page.getByText(idOf(client)).waitFor({ timeout: PAGE_MS });

    // Everything came from the service itself, the icon font included.
    expect(outside).to.deep.equal([]);
    expect(fonts).to.not.deep.equal([]);
    const screenshot = join(await tempDir(), 'admin-ui-sockets.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    await copyFile(screenshot, SHARED_SCREENSHOT);
  });
});
