import type { NodeView } from './cluster-state.js';
import { entry } from './redis-cluster-keys.js';
import type { RedisClusterContext } from './redis-app-state.js';

/**
 * Makes Redis hold exactly this node's live share again: every local channel's count and
 * every local presence member are asserted (idempotently: the scripts take absolute counts
 * and a member the node already holds is not new), and whatever Redis still lists for this
 * node that is no longer live is withdrawn. Changes found on the way are reported and
 * announced as they would have been at the time (a member re-added after the node was
 * reaped is announced again, so clients may see member_added twice for one user).
 */
export async function resyncNode(node: NodeView, ctx: RedisClusterContext, redis: { smembers(key: string): Promise<string[]> }): Promise<void> {
  const held = new Set(await ctx.track(redis.smembers(ctx.keys.node(ctx.nodeId))));
  const steps: Array<Promise<void>> = [];
  for (const { app, channels } of node.appsWithState()) {
    for (const channel of channels) {
      const count = entry.count(app.id, channel.name);
      held.delete(count);
      steps.push(setCount(ctx, app.id, channel.name, channel.subscriptionCount, ctx.countMessage(app, channel.name)));
      if (channel.kind !== 'presence') continue;
      for (const [userId, info] of node.localMembers(app.id, channel.name)) {
        const member = entry.member(app.id, channel.name, userId);
        if (held.delete(member)) continue;
        steps.push(
          ctx.scripts.run('join', ctx.nodeId, app.id, channel.name, userId, JSON.stringify(info), 1_000_000, member, ...ctx.memberMessage(app.id, channel.name, 'added', userId, info), ctx.nodeTtlMs).then((reply) => {
            const [first] = Array.isArray(reply) ? reply : [0];
            if (first === 1) ctx.memberChanged(app.id, channel.name, 'added', userId);
          }),
        );
      }
    }
  }
  for (const stale of held) {
    const parsed = parseEntry(stale);
    if (parsed?.kind === 'c') steps.push(setCount(ctx, parsed.appId, parsed.channel, 0));
    if (parsed?.kind === 'p') {
      steps.push(
        ctx.scripts.run('leave', ctx.nodeId, parsed.appId, parsed.channel, parsed.userId, stale, ...ctx.memberMessage(parsed.appId, parsed.channel, 'removed', parsed.userId)).then((last) => {
          if (last === 1) ctx.memberChanged(parsed.appId, parsed.channel, 'removed', parsed.userId);
        }),
      );
    }
  }
  // One damaged key must not stop the others: each step reports its own failure.
  await ctx.track(Promise.all(steps.map((step) => step.catch((error: unknown) => ctx.failed(error)))));
}

function setCount(ctx: RedisClusterContext, appId: string, channel: string, count: number, message: [string, Buffer | string] = ['', '']): Promise<void> {
  return ctx.scripts.run('count', ctx.nodeId, appId, channel, count, entry.count(appId, channel), ...message, ctx.nodeTtlMs).then((reply) => {
    const [before, after] = Array.isArray(reply) ? reply.map(Number) : [0, 0];
    ctx.counted(appId, channel, before ?? 0, after ?? 0, message[0] !== '');
  });
}

type Entry = { kind: 'c'; appId: string; channel: string } | { kind: 'p'; appId: string; channel: string; userId: string };

/** An index entry; undefined for anything that is not one of ours (skipped). */
function parseEntry(raw: string): Entry | undefined {
  try {
    const e = JSON.parse(raw) as unknown;
    if (!Array.isArray(e) || typeof e[1] !== 'string' || typeof e[2] !== 'string') return undefined;
    if (e[0] === 'c') return { kind: 'c', appId: e[1], channel: e[2] };
    if (e[0] === 'p' && typeof e[3] === 'string') return { kind: 'p', appId: e[1], channel: e[2], userId: e[3] };
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

