import { expect } from 'chai';
import { hashSecret, resolveSecret } from '../../lib/config/secrets.js';
import { expectUsageError, runCli, startCli } from '../support/cli.js';
import { expectErrorBody, request } from '../support/http.js';
import { parseMetrics } from '../support/metrics.js';
import { startServer } from '../support/server.js';
import { ack, next } from '../support/wait.js';

const TOKEN = 'scrape-me';

describe('metrics token', () => {
  it('leaves GET /metrics open without METRICS_TOKEN', async () => {
    const server = await startServer();
    const res = await request(`${server.url}/metrics`);
    expect(res.status).to.equal(200);
  });

  it('answers 401 without the token, with a wrong one or another scheme, and the metrics with it', async () => {
    const server = await startServer({ metricsToken: resolveSecret(TOKEN, {}) });
    expectErrorBody(await request(`${server.url}/metrics`), 401, 'UNAUTHORIZED', /METRICS_TOKEN/);
    expectErrorBody(await request(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } }), 401, 'UNAUTHORIZED');
    expectErrorBody(await request(`${server.url}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } }), 401, 'UNAUTHORIZED');
    const res = await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).to.equal(200);
    expect(parseMetrics(String(res.body)).some((sample) => sample.name === 'realtime_rooms_process_resident_memory_bytes')).to.equal(true);
  });

  it('takes the token in its hashed form, as API_TOKEN does', async () => {
    const server = await startServer({ metricsToken: resolveSecret(await hashSecret(TOKEN), {}) });
    expect((await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(200);
    expectErrorBody(await request(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } }), 401, 'UNAUTHORIZED');
  });

  it('counts wrong tokens against the failed-auth budget: guessing is refused with 429', async () => {
    const server = await startServer({ metricsToken: resolveSecret(TOKEN, {}), maxAuthFailures: 2 });
    for (let i = 0; i < 2; i++) expectErrorBody(await request(`${server.url}/metrics`), 401, 'UNAUTHORIZED');
    expectErrorBody(await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }), 429, 'RATE_LIMITED');
  });

  it('reads METRICS_TOKEN in the CLI, as env:NAME too, and refuses a reference to an unset variable', async () => {
    const cli = await startCli(['-p', '0', '-H', '127.0.0.1'], { env: { METRICS_TOKEN: 'env:SCRAPE_TOKEN', SCRAPE_TOKEN: TOKEN } });
    expectErrorBody(await request(`${cli.url}/metrics`), 401, 'UNAUTHORIZED');
    expect((await request(`${cli.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(200);
    expectUsageError(
      await runCli(['-p', '0', '-H', '127.0.0.1'], { env: { METRICS_TOKEN: 'env:NO_SUCH_SCRAPE_TOKEN' } }),
      /--metrics-token \(METRICS_TOKEN\): environment variable NO_SUCH_SCRAPE_TOKEN is not set/,
    );
  });

  it('serves no GET /metrics with --no-metrics (METRICS=off), and the service works as before', async () => {
    const cli = await startCli(['-p', '0', '-H', '127.0.0.1'], { env: { METRICS: 'off' } });
    expect((await request(`${cli.url}/metrics`)).status).to.equal(404);
    expect((await request(`${cli.url}/healthcheck`)).status).to.equal(200);
    const server = await startServer({ metrics: false });
    expect((await request(`${server.url}/metrics`)).status).to.equal(404);
    const [sender, member] = await Promise.all([server.connect('/layout'), server.connect('/layout')]);
    await ack(sender, 'JOIN', { room: 'r', name: 's' });
    await ack(member, 'JOIN', { room: 'r', name: 'm' });
    const heard = next<{ message: unknown }>(member, 'EVENT');
    await ack(sender, 'NOTIFY', { room: 'r', message: 'hi' });
    expect((await heard).message).to.equal('hi');
  });
});
