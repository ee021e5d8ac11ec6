# syntax=docker/dockerfile:1
# One image recipe for every service of the repository; docker-compose.yml builds each service
# from it with its own arguments. Build from the repository root, for example:
#   docker build -f deploy/docker/service.Dockerfile --build-arg WORKSPACE=poller \
#     --build-arg PORT=8081 --build-arg HEALTH_PATH=/readyz -t wolkvox-chat-stream/poller .
# The workspace is installed from the lock file, the service and the packages it uses are compiled
# to dist/, only production dependencies stay; the image runs compiled code, never TypeScript.
#
# Arguments:
#   WORKSPACE    the folder under services/ (poller, sentiment-aggregator, tramite-classifier,
#                chat-quality, dashboard, wolkvox-simulator)
#   ENTRY        the compiled entry point under its dist/, without .js (main; cli for the classifier)
#   PORT         the service's default HTTP_PORT, exposed and health-checked
#   HEALTH_PATH  /healthz, or /readyz where "not ready" is a reason to restart (the poller). The
#                consumers use /healthz: /readyz answers 503 while state is rebuilt from the topic
#                after Redis lost its data, which may take long and is no reason to restart.

FROM node:20.19-bookworm-slim AS build
ARG WORKSPACE
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json turbo.json ./
COPY packages ./packages
COPY services ./services
COPY schemas ./schemas
COPY test/package.json ./test/package.json
RUN npm ci --no-audit --no-fund
RUN test -n "$WORKSPACE" && npx turbo run build --filter="@wolkvox-chat-stream/${WORKSPACE}..."
# Only what runs stays: production dependencies and the compiled workspaces.
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20.19-bookworm-slim
ARG WORKSPACE
ARG ENTRY=main
ARG PORT
ARG HEALTH_PATH=/healthz
ENV NODE_ENV=production \
    SERVICE_PORT=${PORT} \
    SERVICE_HEALTH_PATH=${HEALTH_PATH}
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# One fixed path for the entry point, so ENTRYPOINT stays in exec form (no shell in between).
RUN ln -s "/app/services/${WORKSPACE}/dist/${ENTRY}.js" /app/service.js \
  && test -f /app/service.js
USER node
EXPOSE ${PORT}
# SIGTERM reaches node itself (no shell, no npm in between): it finishes what it holds and exits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||process.env.SERVICE_PORT)+process.env.SERVICE_HEALTH_PATH).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/service.js"]
