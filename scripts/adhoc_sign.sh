#!/bin/sh
# Re-signs a macOS binary ad hoc; a no-op for other platforms.
# GoReleaser runs it as a post-build hook: scripts/adhoc_sign.sh <os> <path>.
# Why: `bun build --compile` appends the program to a signed runtime, and the
# resulting Mach-O can carry a signature that no longer matches; Apple Silicon
# kills such a binary at exec (SIGKILL, "Code Signature Invalid"). An ad hoc
# signature over the final file fixes that (it is not a Developer ID signature:
# Gatekeeper still quarantines browser downloads, see docs/install.md).
set -eu
os="$1"
path="$2"
[ "$os" = "darwin" ] || exit 0
if ! command -v codesign >/dev/null 2>&1; then
  if [ "${TALOS_MCP_SKIP_CODESIGN:-}" = "1" ]; then
    echo "adhoc_sign: codesign not available, leaving $path unsigned (TALOS_MCP_SKIP_CODESIGN=1)" >&2
    exit 0
  fi
  echo "adhoc_sign: codesign is needed to re-sign $path (run the release on macOS, or set TALOS_MCP_SKIP_CODESIGN=1 for a local snapshot)" >&2
  exit 1
fi
codesign --force --sign - "$path"
codesign --verify --verbose "$path"
