import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../store/index.js';

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request id (ours) and correlation id (the caller's, if well-formed) for events and audit. */
export function requestContext(request: FastifyRequest): RequestContext {
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && CORRELATION.test(header) ? header : request.id;
  return { requestId: request.id, correlationId };
}
