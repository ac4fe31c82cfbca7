import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './problem.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const digest = (s: string) => createHash('sha256').update(s).digest();

/** `[api] auth_token` checks: writes always need it; reads need it only from another machine. */
export class TokenAuth {
  constructor(private readonly token: string) {}

  private bearerMatches(request: FastifyRequest): boolean {
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    // Digests have one length, so the comparison takes the same time whatever was sent.
    return this.token !== '' && m !== null && timingSafeEqual(digest(m[1].trim()), digest(this.token));
  }

  /** A write (trigger, clear, pause, invalidate). */
  checkWrite(request: FastifyRequest): void {
    if (this.token === '')
      throw new ApiError(
        403,
        'writes are disabled: no API token is configured; set [api] auth_token (or AIRFLOW__API__AUTH_TOKEN) and send it as Authorization: Bearer <token>',
      );
    if (!request.headers.authorization)
      throw new ApiError(403, 'this request changes state: send the [api] auth_token as Authorization: Bearer <token>');
    if (!this.bearerMatches(request)) throw new ApiError(403, 'the bearer token does not match [api] auth_token');
  }

  /** A read: open to this machine; from elsewhere only with the token. */
  checkRead(request: FastifyRequest): void {
    if (LOOPBACK.has(request.ip) || this.bearerMatches(request)) return;
    throw new ApiError(
      403,
      `reads are open to 127.0.0.1 only; from ${request.ip} send the [api] auth_token as Authorization: Bearer <token>`,
    );
  }
}
