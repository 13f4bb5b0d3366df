import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LUA_KEYS } from './redis-cluster-keys.js';

/**
 * The cluster's atomic steps, as Lua scripts (each runs alone in Redis, so "first member
 * anywhere", "last subscriber anywhere" and "who reaps a dead node" have one answer).
 * Every script takes ARGV[1] = key prefix. Values read back are parsed leniently (tonumber,
 * pcall around cjson): bad data in Redis is skipped, never fatal.
 */

/**
 * ARGV: prefix, node, app, channel, local count, index entry, fan-out channel ('' = none),
 * count message less its count, node ttl ms -> {total before, total after}. A node that
 * writes a share is registered (ZADD NX) if Redis does not list it — after an empty restart
 * a step may come before the node's heartbeat, and a share of an unlisted node is never
 * reaped. A changed non-zero total is published here (the message completed with the total
 * as uint32 BE, as fanout-codec writes it), so every node hears the totals in the order
 * Redis computed them.
 */
const COUNT = `
local node, a, c, count, e = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local subs = subsKey(a, c)
local before = sum(redis.call('HVALS', subs))
if count > 0 then
  redis.call('ZADD', nodesKey(), 'NX', now() + tonumber(ARGV[9]), node)
  redis.call('HSET', subs, node, count)
  redis.call('SADD', nodeKey(node), e)
else
  redis.call('HDEL', subs, node)
  redis.call('SREM', nodeKey(node), e)
end
local after = sum(redis.call('HVALS', subs))
if after > 0 then redis.call('SADD', occupiedKey(a), c) else redis.call('SREM', occupiedKey(a), c) end
if ARGV[7] ~= '' and after > 0 and after ~= before then
  redis.call('PUBLISH', ARGV[7], ARGV[8] .. struct.pack('>I4', after))
end
return {before, after}
`;

/**
 * ARGV: prefix, node, app, channel, user, info, max members, index entry, fan-out channel,
 * member_added message, node ttl ms (registers the node as COUNT does) -> {1 if new to
 * the cluster else 0 (-1: channel full), flat HGETALL of the member infos}. The message is published here, by the script that decided it, so
 * every node hears member changes in the order Redis made them (a publish by the node after
 * the reply could overtake, or be overtaken by, another node's).
 */
const JOIN = `
local node, a, c, u, info, max, e = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
local pu, pi, idx = puKey(a, c), piKey(a, c), nodeKey(node)
local first = 0
if redis.call('SADD', idx, e) == 1 then
  if redis.call('HEXISTS', pu, u) == 0 and redis.call('HLEN', pu) >= max then
    redis.call('SREM', idx, e)
    return {-1, {}}
  end
  redis.call('ZADD', nodesKey(), 'NX', now() + tonumber(ARGV[11]), node)
  local held = (tonumber(redis.call('HGET', pu, u)) or 0) + 1
  redis.call('HSET', pu, u, held)
  if held == 1 then
    redis.call('HSET', pi, u, info)
    first = 1
    if ARGV[9] ~= '' then redis.call('PUBLISH', ARGV[9], ARGV[10]) end
  end
end
return {first, redis.call('HGETALL', pi)}
`;

/**
 * ARGV: prefix, node, app, channel, user, index entry, fan-out channel, member_removed
 * message -> 1 if that was the user's last node (the message is then published, as JOIN's).
 */
const LEAVE = `
local node, a, c, u, e = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('SREM', nodeKey(node), e) == 0 then return 0 end
local pu = puKey(a, c)
local held = (tonumber(redis.call('HGET', pu, u)) or 1) - 1
if held > 0 then
  redis.call('HSET', pu, u, held)
  return 0
end
redis.call('HDEL', pu, u)
redis.call('HDEL', piKey(a, c), u)
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[8]) end
return 1
`;

/**
 * ARGV: prefix, node, ttl ms -> 1 if the node was registered already (0: new, reaped or
 * Redis lost it). Registered means the heartbeat's own marker is in the node's index (RELEASE
 * deletes the index, an empty restart loses it), not merely a `nodes` entry: COUNT and JOIN
 * add that entry too, and must not hide the loss from the resync.
 */
const HEARTBEAT = `
local node, ttl = ARGV[2], tonumber(ARGV[3])
local ok, added = pcall(redis.call, 'SADD', nodeKey(node), '["r"]')
redis.call('ZADD', nodesKey(), now() + ttl, node)
if ok and added == 1 then return 0 end
return 1
`;

/**
 * ARGV: prefix, node ('' = the first expired node, if any), fan-out channel ('' = none).
 * Removes the node from the registry and everything it held, atomically (so one reaper
 * wins), and publishes each member_removed itself (fanout-codec's layout: version 1, kind
 * member 3, flag removed 8, then app, channel, user as uint32 BE length + bytes), in order
 * with the JOINs that follow. -> {node, {{'c', app, channel, before, after} | {'p', app,
 * channel, user}}...} or {}.
 * Each entry is released under pcall: a script that raises keeps the writes made before
 * the error (no rollback), so one key of the wrong type must not leave the registry entry
 * gone and the rest of the node's share (and its index) in Redis for ever.
 */
const RELEASE = `
local node = ARGV[2]
if node == '' then
  local expired = redis.call('ZRANGEBYSCORE', nodesKey(), '-inf', now(), 'LIMIT', 0, 1)
  if #expired == 0 then return {} end
  node = expired[1]
end
redis.call('ZREM', nodesKey(), node)
local out = {}
local function str(s) return struct.pack('>I4', #s) .. s end
local function releaseCount(a, c)
  local subs = subsKey(a, c)
  local before = sum(redis.call('HVALS', subs))
  redis.call('HDEL', subs, node)
  local after = sum(redis.call('HVALS', subs))
  if after <= 0 then redis.call('SREM', occupiedKey(a), c) end
  if before ~= after then table.insert(out, {'c', a, c, before, after}) end
end
local function releaseMember(a, c, u)
  local pu = puKey(a, c)
  local held = (tonumber(redis.call('HGET', pu, u)) or 1) - 1
  if held > 0 then
    redis.call('HSET', pu, u, held)
  else
    redis.call('HDEL', pu, u)
    redis.call('HDEL', piKey(a, c), u)
    table.insert(out, {'p', a, c, u})
    if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], string.char(1, 3, 8) .. str(a) .. str(c) .. str(u)) end
  end
end
for _, raw in ipairs(redis.call('SMEMBERS', nodeKey(node))) do
  local ok, e = pcall(cjson.decode, raw)
  if ok and type(e) == 'table' and type(e[2]) == 'string' and type(e[3]) == 'string' then
    if e[1] == 'c' then
      pcall(releaseCount, e[2], e[3])
    elseif e[1] == 'p' and type(e[4]) == 'string' then
      pcall(releaseMember, e[2], e[3], e[4])
    end
  end
end
redis.call('DEL', nodeKey(node))
return {node, out}
`;

export type ScriptName = 'count' | 'join' | 'leave' | 'heartbeat' | 'release';

const SOURCES: Record<ScriptName, string> = { count: COUNT, join: JOIN, leave: LEAVE, heartbeat: HEARTBEAT, release: RELEASE };

/** Runs the scripts by SHA (EVALSHA), loading one with EVAL the first time Redis lacks it. */
export class ClusterScripts {
  private readonly bodies = new Map<ScriptName, { body: string; sha: string }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    for (const [name, source] of Object.entries(SOURCES) as Array<[ScriptName, string]>) {
      const body = `${LUA_KEYS}\n${source}`;
      this.bodies.set(name, { body, sha: createHash('sha1').update(body).digest('hex') });
    }
  }

  async run(name: ScriptName, ...args: Array<string | number | Buffer>): Promise<unknown> {
    const { body, sha } = this.bodies.get(name)!;
    try {
      return await this.redis.evalsha(sha, 0, this.prefix, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return this.redis.eval(body, 0, this.prefix, ...args);
    }
  }
}
