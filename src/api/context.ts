import type { FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.js';
import type { TokenAuth } from './auth.js';
import type { DagSource } from './dag-source.js';

/** What every route module is given: the runtime (DB, cache, clock), the parsed DAGs, the token check. */
export interface ApiContext {
  rt: Runtime;
  dags: DagSource;
  auth: TokenAuth;
}

/** preHandler for a write route. */
export const writeGuard = (ctx: ApiContext) => (request: FastifyRequest) => {
  ctx.auth.checkWrite(request);
  return Promise.resolve();
};

export const DAG_ID = { type: 'string', description: 'DAG id' } as const;
export const RUN_ID = { type: 'string', description: 'DAG run id' } as const;
export const TASK_ID = { type: 'string', description: 'Task id' } as const;
/** Write routes declare this, so the OpenAPI document says how to authenticate. */
export const BEARER = [{ bearerAuth: [] }];
