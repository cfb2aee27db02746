# syntax=docker/dockerfile:1
# One image for every role; the command picks it (see docker-compose.yml). Runs TypeScript through tsx, as
# `pnpm start` does, so what is tested is what ships.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@12.4.2
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY apps/ingress/package.json apps/ingress/
COPY apps/gateway/package.json apps/gateway/
COPY apps/relay/package.json apps/relay/
COPY packages/protocol/package.json packages/protocol/
COPY packages/bus/package.json packages/bus/
COPY packages/runtime/package.json packages/runtime/
COPY packages/redis/package.json packages/redis/
COPY packages/bots/package.json packages/bots/
COPY packages/keys/package.json packages/keys/
COPY packages/testkit/package.json packages/testkit/
COPY bench/package.json bench/
COPY examples/package.json examples/
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8000
WORKDIR /app
COPY --from=deps --chown=node:node /app ./
COPY --chown=node:node apps ./apps
COPY --chown=node:node packages ./packages
USER node
EXPOSE 8000
# Liveness (/healthz): a replica waiting for Redis is alive, only not ready — load balancers use /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "apps/relay/src/main.ts"]
