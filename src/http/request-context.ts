import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../store/index.js';

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;
/** A Pusher socket id as pusher-js reports it (Echo sends it as X-Socket-ID). */
const SOCKET_ID = /^\d{1,20}\.\d{1,20}$/;

/**
 * Request id (ours), correlation id (the caller's, if well-formed) and the caller's
 * WebSocket connection (X-Socket-ID, if well-formed) for events and audit. A malformed
 * X-Socket-ID is ignored rather than refused: it only spares the caller an echo.
 */
export function requestContext(request: FastifyRequest): RequestContext {
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && CORRELATION.test(header) ? header : request.id;
  const socket = request.headers['x-socket-id'];
  const socketId = typeof socket === 'string' && SOCKET_ID.test(socket) ? socket : null;
  return { requestId: request.id, correlationId, socketId };
}
