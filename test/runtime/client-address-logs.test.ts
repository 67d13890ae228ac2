import { expect } from 'chai';
import { hashSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { postSend } from '../support/http.js';
import { recordLog } from '../support/log.js';
import { startServer } from '../support/server.js';

/** Site `app` in mode credentials (user `ana`) with a push API key. */
async function access() {
  return parseSitesFile(
    { sites: { app: { auth: { mode: 'credentials', users: { ana: await hashSecret('right') } }, apiKey: await hashSecret('push-key') } } },
    'test',
    {},
  );
}

describe('log lines name the client address (the forwarded one behind --trust-proxy)', () => {
  it('a connect, a refused handshake and a bad push API key each log the address, and the namespace once', async () => {
    const recorder = recordLog('debug');
    const srv = await startServer({ access: await access(), trustProxy: ['loopback'], logLevel: 'debug' }, { log: recorder.log });
    const forwarded = { extraHeaders: { 'x-forwarded-for': '203.0.113.7' } };

    const socket = await srv.connect('/layout', forwarded);
    const connected = await recorder.line((line) => line.msg === 'connected' && line.socketId === socket.id, 'the connected line');
    expect(connected).to.include({ nsp: '/layout', address: '203.0.113.7' });

    await srv.refused('/app', { ...forwarded, auth: { username: 'ana', password: 'wrong' } });
    const refused = await recorder.line((line) => String(line.msg).startsWith('handshake refused'), 'the handshake refused line');
    expect(refused).to.include({
      msg: 'handshake refused: wrong username or password',
      address: '203.0.113.7',
      code: 'UNAUTHORIZED',
      nsp: '/app',
    });

    await postSend(srv, 'site=app', { rooms: ['r'], event: 'e' }, { authorization: 'Bearer wrong', 'x-forwarded-for': '198.51.100.9' });
    const rejected = await recorder.line((line) => line.msg === 'push rejected: bad API key', 'the bad API key line');
    expect(rejected).to.include({ site: 'app', address: '198.51.100.9' });

    // pino repeats a key given both to a child and to a line: every line of the run names its namespace once.
    for (const text of recorder.raw) expect(text.split('"nsp":').length, text).to.be.at.most(2);
  });

  it('without --trust-proxy an X-Forwarded-For header is not believed', async () => {
    const recorder = recordLog('debug');
    const srv = await startServer({ logLevel: 'debug' }, { log: recorder.log });
    const socket = await srv.connect('/layout', { extraHeaders: { 'x-forwarded-for': '203.0.113.7' } });
    const connected = await recorder.line((line) => line.msg === 'connected' && line.socketId === socket.id, 'the connected line');
    expect(connected).to.include({ address: '127.0.0.1' });
  });
});

describe('requests Engine.IO refuses', () => {
  it('are logged at debug with the reason and the address, and counted by reason in /metrics', async () => {
    const recorder = recordLog('debug');
    const srv = await startServer({ trustProxy: ['loopback'], logLevel: 'debug' }, { log: recorder.log });
    // What a polling client sees behind a round-robin balancer: its session lives on another node.
    const res = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling&sid=not-a-session-here`, {
      headers: { 'x-forwarded-for': '192.0.2.44' },
    });
    expect(res.status).to.equal(400);
    const line = await recorder.line((l) => String(l.msg).startsWith('engine.io refused'), 'the engine.io refused line');
    expect(line).to.include({
      msg: 'engine.io refused a request: Session ID unknown',
      reason: 'Session ID unknown',
      address: '192.0.2.44',
      sid: 'not-a-session-here',
      method: 'GET',
    });
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).to.include('realtime_rooms_engine_refusals_total{reason="Session ID unknown"} 1');
  });
});
