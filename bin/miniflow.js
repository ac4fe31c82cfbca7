#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (part of the README's install command) and
// bundled into one script that starts faster than its modules one by one (scripts/build-cli.js).
import { runCli } from './cli-bundle.js';

runCli();
