#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (part of the README's install command).
await import('../dist/src/cli/main.js');
