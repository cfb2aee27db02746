# syntax=docker/dockerfile:1
# One image for every role; the command picks it (see docker-compose.yml). The final image holds node and one file,
# dist/hookway.mjs (`pnpm build`, tested by apps/relay/test/build.test.ts): no node_modules, no pnpm, no tsx.

FROM node:20-bookworm-slim AS build
WORKDIR /src
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
COPY packages/status/package.json packages/status/
COPY packages/testkit/package.json packages/testkit/
COPY bench/package.json bench/
COPY examples/package.json examples/
# All dependencies: the build needs esbuild and tsx (devDependencies); none of them reach the final image.
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json tsconfig.json ./
COPY scripts ./scripts
COPY apps ./apps
COPY packages ./packages
RUN pnpm run build

FROM node:20-bookworm-slim
# NODE_OPTIONS: V8's young generation capped at 2 × 2 MiB; MALLOC_ARENA_MAX: one glibc malloc arena, so the compiler
# threads' freed memory is reused (scripts/node-flags.ts says why, for both); every role and command started in this
# image gets them, docker-compose's included.
ENV NODE_ENV=production PORT=8000 MALLOC_ARENA_MAX=1 NODE_OPTIONS=--max-semi-space-size=2
WORKDIR /app
# The embedded relay keeps client keys in ./hookway-keys.json (CLIENT_KEYS_FILE): its directory must be writable.
RUN chown node:node /app
COPY --from=build --chown=node:node /src/dist/hookway.mjs ./dist/hookway.mjs
USER node
EXPOSE 8000
# Liveness (/healthz): a replica waiting for Redis is alive, only not ready — load balancers use /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/hookway.mjs"]
