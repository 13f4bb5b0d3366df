import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/index.js';
import type { PipelineAdmin } from '../pipeline/index.js';
import type { CatalogStore, Database, EventLog, OrderStore, TenancyStore } from '../store/index.js';
import { adminRoutes } from './routes/admin-routes.js';
import { installAuthentication } from './auth.js';
import { installErrorHandler } from './error-handler.js';
import { authRoutes, type AuthConfig } from './routes/auth-routes.js';
import { catalogRoutes } from './routes/catalog-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { orderRoutes } from './routes/order-routes.js';
import { storefrontRoutes } from './routes/storefront-routes.js';

export interface HttpConfig extends AuthConfig {
  bodyLimitBytes: number;
  checkoutRateLimit: { max: number; timeWindow: number };
  commandRateLimit: { max: number; timeWindow: number };
  trustProxy: boolean;
}

/** One answered request, for the metrics: `route` is the matched pattern, undefined when none matched. */
export interface ServedRequest {
  method: string;
  route: string | undefined;
  statusCode: number;
  seconds: number;
}

export interface HttpDeps {
  db: Database;
  log: EventLog;
  orders: OrderStore;
  catalog: CatalogStore;
  tenancy: TenancyStore;
  clock: Clock;
  pipelineAdmin: PipelineAdmin;
  metrics: {
    render(): Promise<{ contentType: string; body: string }>;
    requestServed(r: ServedRequest): void;
  };
  config: HttpConfig;
  logger: FastifyServerOptions['logger'];
  /**
   * With a cluster: the Redis client (ioredis) that keeps rate-limit counters for every node,
   * and the key prefix. Counting never blocks a request: when Redis fails it is let through.
   */
  rateLimitRedis?: { client: NonNullable<RateLimitPluginOptions['redis']>; prefix: string };
  /**
   * Whether this process serves the HTTP API (the `web` role). Without it only the operations
   * routes answer (/health, /metrics, /openapi.json) besides `plugins`.
   */
  api: boolean;
  /** Further route plugins (notifications, webhooks, …) registered after the core ones. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The HTTP API: one Fastify instance, one error format, one plugin per resource. */
export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.trustProxy,
    // While shutting down, a request that still arrives on a kept-alive connection is served
    // (the node drains; readiness already says 503) rather than refused in Fastify's own format.
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.requestServed({ method: request.method, route: request.routeOptions.url, statusCode: reply.statusCode, seconds: reply.elapsedTime / 1000 });
  });

  await app.register(cookie);
  // The screens load only their own scripts and styles (no inline ones: Vue sets styles
  // through the CSSOM, which CSP allows) and talk to the API and the WebSocket. Plain-http
  // installs (a counter tablet on the shop's LAN) must not be upgraded to https.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        upgradeInsecureRequests: deps.config.secureCookies ? [] : null,
      },
    },
  });
  await app.register(rateLimit, {
    global: false,
    ...(deps.rateLimitRedis && { redis: deps.rateLimitRedis.client, nameSpace: deps.rateLimitRedis.prefix, skipOnError: true }),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'StoreFlow API', version: '0.1.0', description: 'Order fulfilment with a durable event log.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'sf_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  installAuthentication(app, deps);

  await app.register(healthRoutes, deps);
  if (deps.api) {
    await app.register(authRoutes, deps);
    await app.register(storefrontRoutes, { ...deps, checkoutRateLimit: deps.config.checkoutRateLimit });
    await app.register(orderRoutes, { ...deps, commandRateLimit: deps.config.commandRateLimit });
    await app.register(catalogRoutes, deps);
    await app.register(eventRoutes, deps);
    await app.register(adminRoutes, deps);
  }
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
