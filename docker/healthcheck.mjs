// @ts-check
/**
 * The image's HEALTHCHECK: GET /readyz of the service in this container, as a load balancer asks it, over
 * HTTPS when the service serves HTTPS (HTTPS=true, or TLS_CERT set: the CLI's own variables), accepting its
 * self-signed certificate. Exits 0 on 200 (ready), 1 otherwise: while the service starts or drains (503),
 * or when it does not answer in time. It reads the environment only, so the container is configured with
 * variables (PORT, HTTPS), not flags; it asks 127.0.0.1, where the image's default (all interfaces) listens.
 */
import http from 'node:http';
import https from 'node:https';

const TIMEOUT_MS = 2500;
const TRUE = ['1', 'true', 'yes', 'on'];

const secure = TRUE.includes((process.env.HTTPS ?? '').trim().toLowerCase()) || (process.env.TLS_CERT ?? '').trim() !== '';
const port = (process.env.PORT ?? '').trim() || '3000';
const url = `${secure ? 'https' : 'http'}://127.0.0.1:${port}/readyz`;

/** @param {import('node:http').IncomingMessage} res */
function answered(res) {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  console.error(`${url}: HTTP ${String(res.statusCode)}`);
  process.exit(1);
}

const request = secure
  ? https.get(url, { rejectUnauthorized: false, timeout: TIMEOUT_MS }, answered)
  : http.get(url, { timeout: TIMEOUT_MS }, answered);
request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
request.on('error', (err) => {
  console.error(`${url}: ${err.message}`);
  process.exit(1);
});
