import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MiniflowError, NotFoundError } from '../errors.js';

/** An HTTP error the routes throw on purpose (403, 409, ...); the message is the problem's detail. */
export class ApiError extends MiniflowError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/** Airflow's problem JSON (RFC 7807): {type, title, status, detail}. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

export function problem(status: number, detail: string): Problem {
  const title = TITLES[status] ?? 'Error';
  return {
    type: `https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#section/Errors/${title.replaceAll(' ', '')}`,
    title,
    status,
    detail,
  };
}

export function sendProblem(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(JSON.stringify(problem(status, detail)));
}

/** The status of anything a route threw: the CLI's typed errors keep their meaning over HTTP. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof MiniflowError) return 400;
  const fe = err as Partial<FastifyError>;
  if (fe.validation) return 400;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return fe.statusCode;
  return 500;
}

/** Fastify error handler: every error leaves as problem JSON; only a 500 is logged with its stack. */
export function handleError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = statusOf(err);
  if (status === 500) request.log.error(err);
  void sendProblem(reply, status, status === 500 ? `internal error: ${err.message}` : err.message);
}
