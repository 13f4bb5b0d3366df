import { afterAll, beforeAll, expect, it } from 'vitest';
import { login, moveTo, placeOrder, TEST_PUSHER_APP, startTestApp, type TestApp } from '../../support/http-app.js';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * Roles split over processes: a StoreFlow process with the web and worker roles only (no
 * sockets) runs the broadcaster and publishes into the cluster through Redis; a client on a
 * realtime node elsewhere gets the order's updates.
 */
await describeOnRedis('a worker without sockets broadcasting into the cluster', () => {
  const prefix = redisTestPrefix();
  let worker: TestApp;
  let socketNode: ClusterNode;
  const app = testApp({ id: TEST_PUSHER_APP.id, key: TEST_PUSHER_APP.key, secret: TEST_PUSHER_APP.secret });

  beforeAll(async () => {
    worker = await startTestApp({ env: { REDIS_URL, REDIS_KEY_PREFIX: prefix, STOREFLOW_ROLES: 'web,worker' } });
    await worker.flow.start();
    socketNode = await startClusterNode('sockets', { url: REDIS_URL, prefix: `${prefix}rt:`, apps: [app] });
  }, 60_000);
  afterAll(async () => {
    await socketNode?.stop();
    await worker?.close();
    await deleteRedisKeys(prefix);
  });

  it('delivers OrderStatusUpdated to a customer connected to another node', async () => {
    expect(worker.flow.realtime).toBeNull();
    const staff = await login(worker.http, 'staff');
    const order = await placeOrder(worker.http, staff);
    const customer = socketNode.client(app);
    const channel = `customer.${order.public_id}.order`;
    await nextEvent(customer, channel, 'pusher:subscription_succeeded');
    const updates: Array<Record<string, unknown>> = [];
    customer.channel(channel).bind('OrderStatusUpdated', (p: Record<string, unknown>) => updates.push(p));
    await moveTo(worker.http, staff, order, 'accepted');
    await waitFor('the update on the other node', () => updates.length === 1, 15_000);
    expect(updates[0]).toMatchObject({ public_id: order.public_id, new_status: 'accepted', version: 2 });
  });
});
