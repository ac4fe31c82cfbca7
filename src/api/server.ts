import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { TokenAuth } from './auth.js';
import type { ApiContext } from './context.js';
import { DagSource } from './dag-source.js';
import { handleError } from './problem.js';
import { cacheRoutes } from './routes/cache.js';
import { clearRoutes } from './routes/clear.js';
import { dagRunRoutes } from './routes/dag-runs.js';
import { dagRoutes } from './routes/dags.js';
import { importErrorRoutes } from './routes/import-errors.js';
import { taskInstanceRoutes } from './routes/task-instances.js';
import { uiRoutes } from './routes/ui.js';

/** How long the API reuses a parse of the DAG bundles (the scheduler re-reads them on its own). */
const DAG_PARSE_MAX_AGE_MS = 5000;

/**
 * `miniflow api-server`: Airflow 3's public REST API paths under /api/v2/ (plus miniflow's /cache),
 * the OpenAPI document built from the route schemas, and the UI, from one origin.
 */
export async function buildApiServer(rt: Runtime, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1024 * 1024 });
  const ctx: ApiContext = {
    rt,
    dags: new DagSource(rt, DAG_PARSE_MAX_AGE_MS),
    auth: new TokenAuth(rt.settings.api.authToken),
  };
  app.setErrorHandler(handleError);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'miniflow API',
        version: '2',
        description:
          "Airflow 3's public REST API paths and field names where they exist, plus miniflow's cache resource.",
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  // Reads are open to this machine; from elsewhere they need the token (writes always do).
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.url.startsWith('/api/')) return done();
    try {
      ctx.auth.checkRead(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
  app.get('/api/v2/openapi.json', { schema: { hide: true } }, () => app.swagger());
  app.get('/api/v2/version', { schema: { tags: ['Monitor'], summary: 'Server version' } }, () => ({
    version: '0.1.0',
    git_version: null,
  }));
  dagRoutes(app, ctx);
  dagRunRoutes(app, ctx);
  clearRoutes(app, ctx);
  taskInstanceRoutes(app, ctx);
  cacheRoutes(app, ctx);
  importErrorRoutes(app, ctx);
  await uiRoutes(app);
  return app;
}
