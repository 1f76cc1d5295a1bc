# syntax=docker/dockerfile:1
# Not built on the development machines (no Docker engine there): written to be read and checked.
# Node 22 (LTS); the code itself still runs on Node 20.19+.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY libs ./libs
COPY bench ./bench
RUN npx nest build && npm prune --omit=dev

FROM node:22-bookworm-slim AS runtime
# JSON logs (LOG_FORMAT defaults to json in production and whenever stdout is not a terminal).
ENV NODE_ENV=production \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node scripts/launch.js ./scripts/launch.js
RUN mkdir -p /app/data && chown node:node /app/data
# The embedded database (when MONGODB_URI is unset), the generated JWT secret and the instance id.
VOLUME ["/app/data"]
USER node
EXPOSE 9090 9091
# Readiness: database reachable, gateway listening, not draining. An orchestrator with separate
# probes uses /api/health/live for liveness (restart) and /api/health/ready for traffic.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||9090)+'/api/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# SIGTERM: readiness off, SHUTDOWN_DRAIN_DELAY (3 s), then a stop bounded by SHUTDOWN_TIMEOUT (10 s).
STOPSIGNAL SIGTERM
# launch.js sizes the heap from the container's memory limit (HEAP_MEMORY_SHARE) and passes signals on.
CMD ["node", "scripts/launch.js", "dist/src/main.js"]
