# agentland control-plane image: the gateway and agentcore modes of the single executable.
# Build from the repository root:  docker build -f manifests/images/control-plane.Dockerfile -t agentland/control-plane:0.1.0 .

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml ./
COPY src ./src
# --splitting keeps each mode in its own chunk: a korokd process never loads the gateway or agentcore code.
RUN npx bun build --compile --minify --bytecode --format=esm --splitting \
      src/main.ts src/gateway/tokens/mint-worker.ts --outfile /out/agentland

# The compiled executable needs only glibc: distroless "base" carries it, and nothing else.
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/agentland /usr/local/bin/agentland
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/agentland"]
CMD ["--help"]
