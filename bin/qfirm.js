#!/usr/bin/env node
// The CLI, compiled from src/ by `npm run build` (run by `npm ci` through `prepare`).
import { main } from "../dist/src/cli/cli.js";

process.exitCode = await main(process.argv.slice(2));
