# Image for the worker and the upstream simulator (docker-compose.yml).
# Build stage: the compiled package (dist/), as `npm pack` ships it.
# Run stage: runtime dependencies only, plus ioredis (a peer dependency of the library, which the
# app's worker needs for its Redis store); `bin/temporal-breaker.js` runs the compiled CLI, and
# the worker bundles dist/workflows when it starts.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN npm run build:lib

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NO_COLOR=1
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --no-save --omit=dev --ignore-scripts --no-audit --no-fund "ioredis@$(node -p "require('./package-lock.json').packages['node_modules/ioredis'].version")" \
 && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER node
# The worker's Prometheus endpoint when METRICS_PROMETHEUS_ADDRESS=0.0.0.0:9464; the simulator's port.
EXPOSE 9464 8787
CMD ["node", "bin/temporal-breaker.js", "worker"]
