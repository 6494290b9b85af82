# Kept's image: the compiled server and the built web app, run by Node as an unprivileged user.
# compose.yaml runs two of these on PostgreSQL behind HAProxy (docs/scale-out.md, "Containers"); one
# alone on SQLite needs a volume at /app/data (the database file, KEPT_DB=./data/kept.db).
#
#   docker build -t kept:local .

# The build: the whole toolchain, the dev dependencies, the sources.
FROM node:20-bookworm-slim AS build
# better-sqlite3 is a native module: when no prebuilt binary matches, npm builds it from source with
# node-gyp, which needs Python, make and a C++ compiler (and the headers this image ships in /usr/local).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
# The lock file alone first: the dependencies' layer is rebuilt only when they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# What `npm start` does before it runs the server (README, "Start Kept"): the web app into dist/web,
# the server and db/ compiled into dist/app with the files read at run time (scripts/build-server.mjs).
RUN npm run build && npm run build:server
# The compiled server and `sla` (dist/app/server/cli.js) need only the runtime dependencies.
RUN npm prune --omit=dev --no-audit --no-fund

# The image: no compiler, no sources, no dev dependencies.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Owned by root: the user Kept runs as reads its code and cannot change it.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The one place Kept writes on SQLite (the database file, its WAL and backups); unused on PostgreSQL.
RUN mkdir data && chown node:node data && chmod 700 data
# `node` (uid 1000) comes with the base image.
USER node
EXPOSE 3000
# Node as PID 1 handles SIGTERM itself (server/main.ts closes the app and the database); compose.yaml
# adds an init (`init: true`) to reap any child and forward signals.
CMD ["node", "dist/app/server/main.js"]
