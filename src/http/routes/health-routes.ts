import type { FastifyInstance } from 'fastify';
import type { Database } from '../../store/index.js';
import { errorBody } from '../error-handler.js';

const HEALTH_TIMEOUT_MS = 2_000;

/** Liveness of the service and its database, and the OpenAPI document of every route. */
export async function healthRoutes(
  app: FastifyInstance,
  deps: { db: Database; metrics: { render(): Promise<{ contentType: string; body: string }> } },
) {
  app.get('/health', { schema: { tags: ['ops'], summary: 'Database reachable (200) or not (503)' } }, async (_request, reply) => {
    const started = performance.now();
    try {
      await withTimeout(deps.db.query('SELECT 1'), HEALTH_TIMEOUT_MS);
      return { status: 'ok', database: { kind: deps.db.kind, status: 'up', latency_ms: Math.round(performance.now() - started) } };
    } catch {
      return reply.code(503).send({ status: 'unavailable', ...errorBody('DATABASE_UNAVAILABLE'), database: { kind: deps.db.kind, status: 'down' } });
    }
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
