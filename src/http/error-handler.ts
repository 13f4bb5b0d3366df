import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, ERROR_REGISTRY, isAppError, type ErrorCode } from '../shared/index.js';

/** The one shape of every error body (DESIGN.md §5). */
export function errorBody(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
  return { error: { code, message: message ?? ERROR_REGISTRY[code].message, ...(details ? { details } : {}) } };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/**
 * Connection-level failures of the database: the request may be retried once it is back.
 * Socket errors, SQLSTATE class 08 (connection exception), 57P01/57P02/57P03 (shut down,
 * crashed, starting), 53300 (too many connections), 57014 (a statement_timeout cut a query
 * short), and what pg itself says when a connection dies, none could be had in time, or a
 * server stopped answering (query_timeout).
 * Nothing is half-written: a transaction that lost its connection is rolled back by the server.
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '57014']);
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Query read timeout|Connection terminated|Connection ended unexpectedly|Client has encountered a connection error|not queryable|Cannot use a pool after calling end/i;

function isDatabaseUnavailable(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 3) return false;
  const code = 'code' in e ? String(e.code) : '';
  const message = 'message' in e ? String(e.message) : '';
  if (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_MESSAGES.test(message)) return true;
  const inner = e instanceof AggregateError ? e.errors : 'cause' in e ? [e.cause] : [];
  return inner.some((i) => isDatabaseUnavailable(i, depth + 1));
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    if (isAppError(err)) {
      return reply.code(err.status).send(errorBody(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        path: `${err.validationContext ?? ''}${v.instancePath}`,
        message: v.message,
      }));
      return reply.code(400).send(errorBody('VALIDATION_FAILED', undefined, { issues }));
    }
    if (err instanceof SyntaxError && 'statusCode' in err && err.statusCode === 400) {
      return reply.code(400).send(errorBody('MALFORMED_JSON'));
    }
    const fastifyCode = 'code' in err && typeof err.code === 'string' ? FASTIFY_CODES[err.code] : undefined;
    if (fastifyCode) {
      return reply.code(ERROR_REGISTRY[fastifyCode].status).send(errorBody(fastifyCode));
    }
    if ('statusCode' in err && err.statusCode === 429) {
      return reply.code(429).send(errorBody('RATE_LIMITED'));
    }
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ err }, 'database unavailable');
      return reply.code(503).header('retry-after', '5').send(errorBody('DATABASE_UNAVAILABLE'));
    }
    if (isResponseSerializationError(err)) request.log.error({ err, issues: err.cause.issues }, 'response schema mismatch');
    else request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('INTERNAL', undefined, { request_id: request.id }));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split("?")[0]?.slice(0, 200)}.`));
  });
}
