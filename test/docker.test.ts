import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { randomPrefix } from './support/redis.js';
import { repoRoot, runCli, type CliExit } from './support/cli.js';
import { freePort } from './support/net.js';
import { startServer } from './support/server.js';
import { tempDir } from './support/temp.js';

/** The image's health check, run as the image runs it, with only `env` (PORT, HTTPS, …) set. */
function healthcheck(env: Record<string, string>): Promise<CliExit> {
  return runCli([], { entry: 'docker/healthcheck.mjs', env });
}

function read(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

function portOf(url: string): string {
  return new URL(url).port;
}

// No Docker engine on the dev machines: the image is never built here. What runs without one is tested:
// the health check script against real servers, and what the files say about it.
describe('Docker files', () => {
  describe('the health check (docker/healthcheck.mjs)', () => {
    it('passes for a ready HTTP service', async () => {
      const srv = await startServer();
      const exit = await healthcheck({ PORT: portOf(srv.url) });
      expect(exit.code, exit.stderr).to.equal(0);
    });

    it('follows HTTPS=true or TLS_CERT to an HTTPS service and accepts its self-signed certificate', async () => {
      const srv = await startServer({ tls: { kind: 'self-signed', cacheDir: await tempDir() } });
      const port = portOf(srv.url);
      const settings: Record<string, string>[] = [{ HTTPS: 'true' }, { HTTPS: 'on' }, { TLS_CERT: '/etc/tls/tls.crt' }];
      for (const env of settings) {
        const exit = await healthcheck({ PORT: port, ...env });
        expect(exit.code, `${JSON.stringify(env)}: ${exit.stderr}`).to.equal(0);
      }
      // Plain HTTP to the HTTPS port, the check the image had before it read HTTPS.
      const plain = await healthcheck({ PORT: port });
      expect(plain.code).to.equal(1);
      expect(plain.stderr).to.include(`http://127.0.0.1:${port}/readyz`);
    });

    it('fails while the service is not ready (/readyz 503: starting, Redis not reached yet)', async () => {
      const redis = { url: `redis://127.0.0.1:${await freePort()}`, database: undefined, prefix: randomPrefix() };
      const srv = await startServer({ redis });
      const exit = await healthcheck({ PORT: portOf(srv.url) });
      expect(exit.code).to.equal(1);
      expect(exit.stderr).to.include('/readyz: HTTP 503');
    });

    it('fails when nothing answers on PORT', async () => {
      const exit = await healthcheck({ PORT: String(await freePort()) });
      expect(exit.code).to.equal(1);
      expect(exit.stderr).to.match(/ECONNREFUSED/);
    });
  });

  describe('what the files say', () => {
    const dockerfile = read('Dockerfile');
    const certDir = /^ENV .*\bCERT_DIR=(\S+)/m.exec(dockerfile)?.[1];

    it('the image runs on Node 24 (LTS), checks its health with that script, and lets the node user write the certificate cache', () => {
      expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1])).to.deep.equal(['node:24-slim', 'node:24-slim']);
      expect(dockerfile).to.match(/^COPY docker\/healthcheck\.mjs \.\/healthcheck\.mjs$/m);
      // The pages the service reads at start (lib/http/web-pages.ts): without them it would not start.
      expect(dockerfile).to.match(/^COPY web \.\/web$/m);
      expect(dockerfile).to.match(/^HEALTHCHECK .*CMD \["node", "healthcheck\.mjs"\]$/m);
      expect(certDir).to.be.a('string');
      const chown = dockerfile.search(new RegExp(`^RUN chown node:node ${certDir ?? ''}$`, 'm'));
      expect(chown, 'chown of CERT_DIR').to.be.at.least(0);
      expect(chown).to.be.below(dockerfile.search(/^USER node$/m));
    });

    it('compose restarts every service, shares one certificate cache between the replicas, and balances on /readyz', () => {
      const compose = parseYaml(read('compose.yaml')) as {
        services: Record<string, { restart?: string; volumes?: string[]; labels?: string[] }>;
        volumes?: Record<string, unknown>;
      };
      for (const [name, service] of Object.entries(compose.services)) expect(service.restart, name).to.equal('unless-stopped');
      const realtime = compose.services.realtime;
      expect(realtime?.volumes).to.include(`certs:${certDir ?? ''}`);
      expect(compose.volumes).to.have.property('certs');
      expect(realtime?.labels).to.include('traefik.http.services.realtime.loadbalancer.healthcheck.path=/readyz');
    });
  });
});
