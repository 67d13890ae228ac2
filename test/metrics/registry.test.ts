import { expect } from 'chai';
import { request } from '../support/http.js';
import { startServer } from '../support/server.js';

describe('metrics', () => {
  it('serves the process metrics and the limit counter at GET /metrics, in Prometheus text format', async () => {
    const srv = await startServer();
    const res = await request(`${srv.url}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.type).to.match(/^text\/plain; version=0\.0\.4/);
    expect(res.body).to.match(/^realtime_rooms_process_resident_memory_bytes \d+/m);
    expect(res.body).to.include('# TYPE realtime_rooms_limit_hits_total counter');
  });

  it('keeps the counters of two services in one process apart', async () => {
    const [one, two] = await Promise.all([startServer(), startServer()]);
    const [a, b] = await Promise.all([request(`${one.url}/metrics`), request(`${two.url}/metrics`)]);
    // prom-client refuses a second registration of a name in one registry: both answering proves two registries.
    expect(a.status).to.equal(200);
    expect(b.status).to.equal(200);
  });
});
