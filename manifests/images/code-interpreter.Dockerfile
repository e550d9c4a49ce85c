# syntax=docker/dockerfile:1.7
#
# The code-interpreter sandbox image: korokd (agentland compiled into one executable, run in Bun mode
# for JavaScript/TypeScript) on a distroless Python base, plus bash, dash as /bin/sh and busybox's
# command-line tools so shell code has the basics. No package manager, no korokd runtime besides itself.
#
# Build from the repository root:
#   docker build -f manifests/images/code-interpreter.Dockerfile -t agentland/code-interpreter:0.1.0 .
#
# Both Debian stages are bookworm (12), the base of python3-debian12, so copied binaries find the same
# glibc. Distroless debian12 keeps /bin and /lib as real directories (not merged-/usr), which the
# copies below rely on.

ARG NODE_IMAGE=node:20-bookworm
ARG DEBIAN_IMAGE=debian:12-slim
ARG BASE_IMAGE=gcr.io/distroless/python3-debian12:nonroot

# --- 1. agentland as one executable (Bun comes pinned from package-lock.json via npm) ---------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml ./
COPY src ./src
# --bytecode and ESM roughly halve start-up; the result needs only glibc. --splitting keeps each mode
# in its own chunk, loaded only when that mode starts: korokd idles at ~43 MB instead of ~49 MB
# (e2e/bench/korokd.ts measures both).
RUN ./node_modules/.bin/bun build --compile --minify --bytecode --format=esm --splitting \
      src/main.ts src/gateway/tokens/mint-worker.ts --outfile /out/agentland \
 && /out/agentland --version \
 && mkdir -p /out/workspace

# --- 2. shells and tools from Debian, staged with exactly the libraries they need -------------------
FROM ${DEBIAN_IMAGE} AS shells
RUN apt-get update \
 && apt-get install -y --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/*
RUN set -eux; \
    mkdir -p /stage/bin /stage/usr/local/bin; \
    cp /usr/bin/bash /usr/bin/dash /stage/bin/; \
    ln -s dash /stage/bin/sh; \
    # Shared libraries of bash and dash, except glibc itself (the base image has the same one).
    for lib in $(ldd /usr/bin/bash /usr/bin/dash | awk '$3 ~ /^\// { print $3 }' | sort -u); do \
      case "$(basename "$lib")" in libc.so.*|ld-linux*) continue ;; esac; \
      cp --parents -L "$lib" /stage; \
    done; \
    cp /usr/bin/busybox /stage/usr/local/bin/busybox; \
    # One link per busybox applet, except shells: bash and /bin/sh (dash) stay the real ones.
    for applet in $(/usr/bin/busybox --list); do \
      case "$applet" in sh|ash|bash|hush|busybox) continue ;; esac; \
      ln -s busybox "/stage/usr/local/bin/$applet"; \
    done

# --- 3. the sandbox image ---------------------------------------------------------------------------
FROM ${BASE_IMAGE}
COPY --from=shells /stage/ /
COPY --from=build /out/agentland /usr/local/bin/agentland
# The pod mounts an emptyDir here (read-only root filesystem); the directory also works without one.
COPY --from=build --chown=65532:65532 /out/workspace /workspace
WORKDIR /workspace
ENV PATH=/usr/local/bin:/usr/bin:/bin
# Bun's idle-collection timer would wake korokd every second in every warm pod: most of its CPU at rest
# (e2e/images/korokd-env.ts). User code never inherits korokd's environment.
ENV BUN_GC_TIMER_DISABLE=1
# nonroot (65532) from the base image; the pod's securityContext enforces it too.
USER 65532:65532
# Korokd's API; /health is the readiness probe. The JWKS ConfigMap is mounted at
# /etc/agentland/jwks/jwks.json; POD_NAMESPACE and POD_NAME come from the downward API.
EXPOSE 1883
# Korokd may run as PID 1: it becomes a child subreaper and reaps orphans of killed runs itself,
# and it handles SIGTERM (drain), so no separate init is needed.
ENTRYPOINT ["/usr/local/bin/agentland", "--mode=korokd"]
