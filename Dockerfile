# syntax=docker/dockerfile:1
# One image per role, from one build:
#   target runtime  gateway, scheduler, notifier (and the migrate job): Node only, uid 1000
#   target builder  the builder: adds buildah, skopeo, podman (Debian 12, as on the dev
#                   machine), runs as the non-root user `builder` (uid 1000) with rootless buildah
# The command picks the service, e.g.
#   node --require ./dist/shared/tracing/preload.js dist/services/gateway/main.js
# Node 24 (active LTS; Node 20 reached its end of life in April 2026): the major
# of package.json's engines (>=24) and of the devDependency `node` that
# development, tests and CI run on. The build stage installs with
# --ignore-scripts, so that package fetches no binary here: the image's own
# Node 24 compiles.
#
# Base image pinning: NODE_IMAGE is the one base of every stage, pinned by the
# digest of the multi-arch index that `node:24-bookworm-slim` named for Node
# 24.18.0 (the tag moves; the digest does not, so every build starts from the
# same bytes). `bash scripts/pin-images.sh` resolves the current digest of each
# tag with skopeo and rewrites it here and in docker-compose.yml (docs/kubernetes.md,
# "Images"); review and commit the diff.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# Production dependencies only, exactly as locked: the runtime's node_modules
# is this tree and nothing else, so an SBOM of the image (syft, trivy) is the
# lockfile's production closure.
# The workspace packages' package.json files alone (npm ci links each
# packages/<dir> into node_modules/@iib-ts/<dir>), so a source change keeps
# the dependency layers cached.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY packages ./packages
RUN find packages -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /app/packages ./packages
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /app/packages ./packages
# --ignore-scripts: "prepare" compiles, and the sources are not here yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build \
 && find packages -mindepth 2 -maxdepth 2 ! -name package.json ! -name dist ! -name bin -exec rm -rf {} +

FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="iib-ts" \
      org.opencontainers.image.description="Operator index image builder: IIB's API and workers as AMQP 1.0 microservices" \
      org.opencontainers.image.source="https://github.com/release-engineering/iib" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json /app/package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
# The workspace packages as node_modules/@iib-ts/* links reach them: package.json, dist/, bin/.
COPY --from=build /app/packages ./packages
COPY --from=build /app/dist ./dist
# Numeric, so Kubernetes can verify runAsNonRoot (the image's `node` user).
USER 1000:1000
CMD ["node", "--require", "./dist/shared/tracing/preload.js", "dist/services/gateway/main.js"]

FROM runtime AS builder
LABEL org.opencontainers.image.title="iib-ts-builder"
USER root
# uidmap: newuidmap/newgidmap (setuid root) map the subordinate ids of
# /etc/subuid and /etc/subgid into buildah's user namespace.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      buildah skopeo podman uidmap ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The base image's uid 1000 becomes `builder`, with 65536 subordinate ids for
# the files of the image layers it unpacks (owned by root and others in them).
RUN usermod --login builder --home /home/builder --move-home node \
 && groupmod --new-name builder node \
 && echo 'builder:100000:65536' > /etc/subuid \
 && echo 'builder:100000:65536' > /etc/subgid \
 && mkdir -p /home/builder/.local/share/containers /var/tmp/iib \
 && chown -R builder:builder /home/builder /var/tmp/iib
# vfs copies layers instead of mounting them, and chroot isolation needs no
# OCI runtime: together they need neither privileged nor SYS_ADMIN, only the
# user namespace (docs/kubernetes.md, "The builder's privileges"). Set
# STORAGE_DRIVER=overlay where the storage volume and the kernel allow it, for speed.
ENV STORAGE_DRIVER=vfs \
    BUILDAH_ISOLATION=chroot \
    HOME=/home/builder \
    IIB_BUILDER_WORK_DIR=/var/tmp/iib
COPY deploy/containers/registries.conf /etc/containers/registries.conf.d/50-iib-compose.conf
# Image store and per-request work dirs: one anonymous volume per replica.
VOLUME ["/home/builder/.local/share/containers", "/var/tmp/iib"]
USER 1000:1000
CMD ["node", "--require", "./dist/shared/tracing/preload.js", "dist/services/builder/main.js"]
