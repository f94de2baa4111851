# syntax=docker/dockerfile:1
# One image per role, from one build:
#   target runtime  gateway, scheduler, notifier (and the migrate job): Node only, non-root
#   target builder  the builder: adds buildah, skopeo, podman (Debian 12, as on the dev machine)
# The command picks the service, e.g.
#   node --require ./dist/shared/tracing/preload.js dist/services/gateway/main.js
# Node 24 (active LTS; Node 20 reached its end of life in April 2026). The code
# also runs on Node 20 and 22, but there AsyncLocalStorage, which carries the
# trace context, runs a hook on every promise: tracing costs noticeably more
# (docs/tracing.md, "What tracing costs").
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" compiles, and the sources are not here yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "--require", "./dist/shared/tracing/preload.js", "dist/services/gateway/main.js"]

FROM runtime AS builder
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      buildah skopeo podman fuse-overlayfs uidmap ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# vfs + chroot work in any container that may mount (privileged, or
# SYS_ADMIN with seccomp/apparmor unconfined); set STORAGE_DRIVER=overlay when
# /var/lib/containers is a volume on a filesystem that supports it, for speed.
ENV STORAGE_DRIVER=vfs \
    BUILDAH_ISOLATION=chroot
COPY deploy/containers/registries.conf /etc/containers/registries.conf.d/50-iib-compose.conf
# Image store and per-request work dirs: one anonymous volume per replica.
VOLUME ["/var/lib/containers", "/var/tmp/iib"]
ENV IIB_BUILDER_WORK_DIR=/var/tmp/iib
CMD ["node", "--require", "./dist/shared/tracing/preload.js", "dist/services/builder/main.js"]
