// The web UI bundle: src/ui/main.tsx (Preact) -> dist/ui/app.js + app.css, served by `miniflow api-server`.
// Bundled here (no CDN at run time: machines may be offline). Type checking is tsc -p tsconfig.ui.json.
import { build } from 'esbuild';

await build({
  entryPoints: { app: 'src/ui/main.tsx' },
  outdir: 'dist/ui',
  bundle: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
