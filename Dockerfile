# The release image (ghcr.io/talos-mcp/talos-mcp): the released linux binary on distroless/cc (glibc and the C++
# runtime the Bun-compiled binary links against, CA certificates, a nonroot user; no shell, no package manager).
# Nothing is built here: the image holds the very binary of the GitHub release (checksummed and attested), chosen by
# the target architecture, so amd64 and arm64 images need no emulation. Digest-pinned base; refresh it on purpose.
#   npm run build:all -- --only linux-amd64,linux-arm64     (or download talos-mcp-linux-* from a release into dist/)
#   docker buildx build --platform linux/amd64,linux/arm64 -t talos-mcp:dev .
# Without arguments it serves MCP over stdio (docker run -i); in Kubernetes pass --http 0.0.0.0:8080.
FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
ARG TARGETARCH
# The MCP Registry checks this label against server.json's name before it lists the image.
LABEL io.modelcontextprotocol.server.name="io.github.talos-mcp/talos-mcp" \
      org.opencontainers.image.source="https://github.com/talos-mcp/talos-mcp" \
      org.opencontainers.image.licenses="MPL-2.0"
# Read-only and root-owned: the non-root user can run it, not change it.
COPY --chmod=0555 dist/talos-mcp-linux-${TARGETARCH} /talos-mcp
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/talos-mcp"]
