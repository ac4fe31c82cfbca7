import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../util/paths.js';
import { sendProblem } from '../problem.js';

/** The UI bundle `npm run build` writes (esbuild: src/ui/ -> dist/ui/app.js, app.css). */
export const uiFolder = () => join(packageRoot(), 'dist', 'ui');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>miniflow</title>
    <link rel="stylesheet" href="/assets/app.css">
  </head>
  <body>
    <div id="app"><p>Loading miniflow… (this page needs JavaScript)</p></div>
    <script type="module" src="/assets/app.js"></script>
  </body>
</html>
`;

const MISSING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>miniflow</title></head>
<body><p>The UI bundle is not built: run <code>npm run build</code> (it writes dist/ui/), then reload.</p></body></html>
`;

/**
 * The single-page UI from the API's origin: /assets/* are the bundle's files; every other GET that
 * is not under /api/ gets the page, so bookmarked routes (/dags/x/grid, /cache) load the app, which
 * reads the path. Unknown /api/ paths are problem JSON 404s.
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const folder = uiFolder();
  const built = existsSync(join(folder, 'app.js'));
  if (built) await app.register(fastifyStatic, { root: folder, prefix: '/assets/', decorateReply: false });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    if (request.method !== 'GET' || path.startsWith('/api/') || path.startsWith('/assets/'))
      return sendProblem(reply, 404, `no route ${request.method} ${path} (see /api/v2/openapi.json)`);
    return reply.type('text/html; charset=utf-8').send(built ? PAGE : MISSING);
  });
}
