import type { FastifyInstance } from 'fastify';
import type { Database } from '../../store/index.js';
import { errorBody } from '../error-handler.js';

const HEALTH_TIMEOUT_MS = 2_000;

/**
 * Liveness (`GET /health`): 200 while this process serves requests, whatever its
 * dependencies do — a node recovers from a PostgreSQL outage by itself, so an orchestrator
 * must not restart it for one. The database's state is reported beside it (probe cut off
 * after HEALTH_TIMEOUT_MS); readiness (`/health/ready`) is what takes a node out of traffic.
 * Also the Prometheus metrics and the OpenAPI document of every route.
 */
export async function healthRoutes(
  app: FastifyInstance,
  deps: { db: Database; metrics: { render(): Promise<{ contentType: string; body: string }> } },
) {
  app.get('/health', { schema: { tags: ['ops'], summary: 'Liveness: 200 while the process serves; the database state is reported, not required' } }, async () => {
    const started = performance.now();
    try {
      await withTimeout(deps.db.query('SELECT 1'), HEALTH_TIMEOUT_MS);
      return { status: 'ok', database: { kind: deps.db.kind, status: 'up', latency_ms: Math.round(performance.now() - started) } };
    } catch {
      return { status: 'ok', database: { kind: deps.db.kind, status: 'down' } };
    }
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** One dependency readiness reports on. */
export interface DependencyCheck {
  /** Key in the report: `database`, `redis`, … */
  name: string;
  /** A required dependency that is down makes the node not ready (503); any other only degrades it. */
  required: boolean;
  /** Resolves when the dependency answers; bounded by the route, so it may be slow but not hang it. */
  probe(): Promise<unknown>;
  /** Fixed facts shown beside the status (e.g. the database kind). */
  info?: Record<string, unknown>;
}

export interface ReadinessDeps {
  checks: readonly DependencyCheck[];
  /** True from the moment the node starts shutting down: load balancers should stop sending it work. */
  draining(): boolean;
}

/**
 * Readiness, for load balancers and orchestrators: 200 while this node should get traffic,
 * 503 `NOT_READY` while a required dependency (PostgreSQL) is down or the node is draining
 * on SIGTERM. Optional dependencies (Redis: real-time is an enhancement, never a condition
 * of a write) only turn `status` to `degraded`. Every probe runs at once and is cut off
 * after HEALTH_TIMEOUT_MS, so the answer never hangs.
 */
export async function readinessRoutes(app: FastifyInstance, deps: ReadinessDeps) {
  app.get('/health/ready', { schema: { tags: ['ops'], summary: 'Ready for traffic (200) or not: a required dependency is down or the node is draining (503)' } }, async (_request, reply) => {
    const results = await Promise.all(
      deps.checks.map(async (c) => {
        const started = performance.now();
        try {
          await withTimeout(c.probe(), HEALTH_TIMEOUT_MS);
          return [c, { ...c.info, required: c.required, status: 'up', latency_ms: Math.round(performance.now() - started) }] as const;
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          return [c, { ...c.info, required: c.required, status: 'down', error: error.slice(0, 200) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results.map(([c, r]) => [c.name, r]));
    const down = results.filter(([, r]) => r.status === 'down').map(([c]) => c);
    const draining = deps.draining();
    if (draining || down.some((c) => c.required)) {
      const details = { draining, down: down.map((c) => c.name) };
      return reply.code(503).send({ status: 'unavailable', draining, checks, ...errorBody('NOT_READY', undefined, details) });
    }
    return { status: down.length > 0 ? 'degraded' : 'ready', draining, checks };
  });
}

/** The database as a required readiness check. */
export const databaseCheck = (db: Database): DependencyCheck => ({
  name: 'database',
  required: true,
  info: { kind: db.kind },
  probe: () => db.query('SELECT 1'),
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
