import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { echoClient, pusherClient } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

const NODE_SCRIPT = fileURLToPath(new URL('./cluster-node-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The real thing: a node in a process of its own, SIGKILLed while a member of a presence
 * channel is connected to it. The survivor's clients hear member_removed within the bound
 * (node TTL + one heartbeat, plus slack for a loaded machine), and the member is gone from
 * the cluster's lists.
 */
await describeOnRedis('a node process killed with SIGKILL', () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  // Short by default to keep the suite quick; STOREFLOW_TEST_NODE_TTL_MS=5000 measures the production default.
  const nodeTtlMs = Number(process.env.STOREFLOW_TEST_NODE_TTL_MS ?? 1_500);
  const timings = { heartbeatMs: Math.max(100, Math.floor(nodeTtlMs / 5)), nodeTtlMs };
  let survivor: ClusterNode;
  let killed = false;
  const child = { pid: 0, kill: (_: NodeJS.Signals) => {}, exited: Promise.resolve() };

  beforeAll(async () => {
    survivor = await startClusterNode('survivor', { url: REDIS_URL, prefix, apps: [app], ...timings });
  });
  afterAll(async () => {
    if (!killed) child.kill('SIGKILL');
    await child.exited;
    await survivor?.stop();
    await deleteRedisKeys(prefix);
  });

  it('removes its members, with member_removed to the clients of the survivor, within the bound', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL,
        PREFIX: prefix,
        NODE_ID: 'victim',
        HEARTBEAT_MS: String(timings.heartbeatMs),
        NODE_TTL_MS: String(timings.nodeTtlMs),
        APP: JSON.stringify(app),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.pid = proc.pid ?? 0;
    child.kill = (signal) => void proc.kill(signal);
    child.exited = new Promise((resolve) => proc.on('exit', () => resolve()));
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const port = Number((await waitFor(`the node process to listen (output: ${out})`, () => /ready (\d+)/.exec(out)?.[1], 30_000)));

    const bob = echoClient(survivor.client(app, { user: { id: 'bob', info: { name: 'Bob' } } }));
    await new Promise((resolve) => bob.join('room').here(resolve));
    const leaving: unknown[] = [];
    bob.join('room').leaving((m: unknown) => leaving.push(m));
    const aliceClient = pusherClient(port, app, { user: { id: 'alice', info: { name: 'Alice' } } }, { activityTimeout: 60_000 });
    const alice = echoClient(aliceClient);
    const here = await new Promise<unknown[]>((resolve) => alice.join('room').here(resolve));
    expect(here).toHaveLength(2);
    await waitFor('alice counted', async () => (await survivor.node.control.users(app.id, 'presence-room')).includes('alice'), 5_000);

    const killedAt = Date.now();
    proc.kill('SIGKILL');
    killed = true;
    await child.exited;
    // pusher-js would reconnect to the dead port; it is a client of the dead node, not of the test.
    aliceClient.disconnect();
    await waitFor('member_removed for alice', () => leaving.length === 1, timings.nodeTtlMs + timings.heartbeatMs + 5_000);
    console.info(`member removed ${Date.now() - killedAt} ms after SIGKILL (heartbeat ${timings.heartbeatMs} ms, ttl ${timings.nodeTtlMs} ms)`);
    expect(leaving).toEqual([{ name: 'Alice' }]);
    expect(await survivor.node.control.users(app.id, 'presence-room')).toEqual(['bob']);
    expect(survivor.sink.named('member_removed').map((o) => o.user_id)).toEqual(['alice']);
  });
});
