# A minimal image for talos-mcp --http: the self-contained binary on distroless/cc (glibc and the
# C++ runtime the Bun-compiled binary links against, CA certificates, a nonroot user; no shell).
#   docker build -t talos-mcp:0.1.0 --build-arg TALOS_MCP_COMMIT=$(git rev-parse --short=12 HEAD) .
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG TALOS_MCP_COMMIT=unknown
RUN TALOS_MCP_COMMIT=${TALOS_MCP_COMMIT} npx bun scripts/build.ts --outfile /out/talos-mcp

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/talos-mcp /talos-mcp
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/talos-mcp"]
CMD ["--http", "0.0.0.0:8080"]
