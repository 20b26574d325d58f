#!/usr/bin/env node
// talos-mcp launcher: fetches, verifies and caches the binary for this
// platform on first run, then runs it (see ../README.md).
import { main } from "../lib/launcher.js";

await main(process.argv.slice(2));
