import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { HORIZON, type Database, type TenancyStore } from '../../store/index.js';
import { accessOf, requireStore } from '../auth.js';
import { storeParams } from '../schemas.js';

/**
 * What a browser client needs beside the resource API:
 * - `GET /api/client-config`: the public Pusher key to connect to (the secret never leaves);
 * - `GET /api/stores/:storeId/events/head`: the checkpoint where the store's log ends now,
 *   for gap-safe readers. A screen reads it, then its data, then catches up after it; every
 *   event at or before it had committed when it was read, every later one sorts after it.
 */
export async function clientRoutes(app: FastifyInstance, deps: { db: Database; tenancy: TenancyStore; pusherKey: string }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/client-config', { schema: { tags: ['real-time'], summary: 'What a browser needs to connect (the public Pusher key)' } }, async () => ({
    pusher: { key: deps.pusherKey, cluster: 'local' },
  }));

  r.get('/api/stores/:storeId/events/head', {
    schema: { params: storeParams, tags: ['events'], summary: "The checkpoint where a store's log ends (gap-safe)" },
    preHandler: requireStore(deps.tenancy, 'events.read'),
  }, async (request) => {
    // Only transactions below the horizon are final: an open older one could still commit
    // an event that sorts before a newer visible one, so the head stops below them.
    const [row] = await deps.db.query<{ transaction_id: string; position: string }>(
      `SELECT transaction_id::text AS transaction_id, position::text AS position FROM events
       WHERE store_id = $1 AND transaction_id < ${HORIZON}
       ORDER BY transaction_id DESC, position DESC LIMIT 1`,
      [accessOf(request).storeId],
    );
    return { checkpoint: row ? `${row.transaction_id}.${row.position}` : '0.0' };
  });
}
