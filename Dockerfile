# realtime-rooms: build with the dev dependencies, run with the production ones only. Node 24, the current
# LTS (the tests run on Node 20; package.json allows >= 20.19). Untested: no Docker engine on the dev machines.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json server.ts ./
COPY lib ./lib
COPY protocol ./protocol
COPY client ./client
COPY scripts/build-client.ts ./scripts/build-client.ts
RUN npm run build

FROM node:24-slim
# CERT_DIR caches the self-signed certificate of HTTPS=true (without TLS_CERT/TLS_KEY): owned by the node user,
# so that it is written once and reused; mount one volume there for every replica (see compose.yaml).
ENV NODE_ENV=production PORT=3000 LOG_FORMAT=json CERT_DIR=/app/certs
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The home page and the playground, served as they are (read at start).
COPY web ./web
COPY certs/README.md ./certs/README.md
COPY docker/healthcheck.mjs ./healthcheck.mjs
RUN chown node:node /app/certs
USER node
EXPOSE 3000
# GET /readyz, what the load balancer asks too: over HTTPS when HTTPS=true or TLS_CERT is set. It reads PORT
# and HTTPS from the environment: configure the container with variables, not flags.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["node", "healthcheck.mjs"]
CMD ["node", "dist/server.js"]
