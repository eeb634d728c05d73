# Image for the worker and the upstream simulator (docker-compose.yml).
# `bin/temporal-breaker.js` runs the TypeScript sources through tsx (a runtime dependency), and
# the worker bundles `workflows/` when it starts, so the image carries the sources, not dist/.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NO_COLOR=1
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
USER node
# The worker's Prometheus endpoint when METRICS_PROMETHEUS_ADDRESS=0.0.0.0:9464; the simulator's port.
EXPOSE 9464 8787
CMD ["node", "bin/temporal-breaker.js", "worker"]
