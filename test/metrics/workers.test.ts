import { expect } from 'chai';
import { startCli, type CliServer, type LogLine } from '../support/cli.js';
import { scrape, valueOf } from '../support/metrics.js';
import { connectV4 } from '../support/server.js';

const isReadyLine = (line: LogLine): boolean => typeof line.msg === 'string' && /^worker \d+ ready$/.test(line.msg);

/** Starts `--workers 2` on 127.0.0.1 (debug logs name the worker of each connection) and waits for both workers. */
async function startWorkers(): Promise<CliServer> {
  const server = await startCli(['--workers', '2', '-H', '127.0.0.1', '-p', '0', '--log-level', 'debug', '--connect-rate', '0']);
  await server.waitForLog((line) => isReadyLine(line) && line.worker === 1, 'worker 1 ready');
  await server.waitForLog((line) => isReadyLine(line) && line.worker === 2, 'worker 2 ready');
  return server;
}

describe('metrics with --workers', () => {
  it('answers every scrape, whichever worker takes it, with the whole machine: the sockets of both workers', async () => {
    const server = await startWorkers();
    const sockets = [
      await connectV4(`${server.url}/layout`, { transports: ['websocket'] }),
      await connectV4(`${server.url}/layout`, { transports: ['websocket'] }),
    ];
    const workers = await Promise.all(
      sockets.map((socket) =>
        server.waitForLog(
          (line) => line.msg === 'connected' && line.socketId === socket.id,
          `the 'connected' line of ${String(socket.id)}`,
        ),
      ),
    );
    expect(new Set(workers.map((line) => line.worker))).to.have.keys([1, 2]);
    // Several scrapes: least-connection hands them to either worker; each answers for both.
    for (let i = 0; i < 4; i++) {
      const samples = await scrape(server);
      expect(valueOf(samples, 'realtime_rooms_connections', { namespace: '/layout' }), `scrape ${i}`).to.equal(2);
    }
  });
});
