/**
 * The cluster's data model in Redis, under one prefix (default `storeflow:rt:`). Per node
 * shares are kept apart so that a dead node's can be taken away:
 *
 *   <p>nodes                  ZSET  node id -> expiry (ms, Redis clock); heartbeats push it on
 *   <p>node:<node>            SET   what the node holds: ["c",app,channel] and ["p",app,channel,user]
 *   <p>a:<app>:occupied       SET   channels with a subscriber on some node
 *   <p>a:<app>:subs:<channel> HASH  node id -> that node's subscriber count
 *   <p>a:<app>:pu:<channel>   HASH  user id -> how many nodes hold a connection of that member
 *   <p>a:<app>:pi:<channel>   HASH  user id -> user_info (JSON), as the first node saw it
 *   <p>a:<app>:cache:<channel> STRING last server event of a cache channel (codec below), PX ttl
 *
 * Channel names cannot contain `:`; app ids come from the operator. The Lua scripts build
 * the same keys (LUA_KEYS below) from ARGV, so a reaper can follow a node's set. (Redis
 * Cluster would need hash tags per app; see ADR 0008.)
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  get nodes(): string {
    return `${this.prefix}nodes`;
  }
  node(node: string): string {
    return `${this.prefix}node:${node}`;
  }
  occupied(app: string): string {
    return `${this.prefix}a:${app}:occupied`;
  }
  subs(app: string, channel: string): string {
    return `${this.prefix}a:${app}:subs:${channel}`;
  }
  presenceUsers(app: string, channel: string): string {
    return `${this.prefix}a:${app}:pu:${channel}`;
  }
  presenceInfo(app: string, channel: string): string {
    return `${this.prefix}a:${app}:pi:${channel}`;
  }
  cache(app: string, channel: string): string {
    return `${this.prefix}a:${app}:cache:${channel}`;
  }
}

/** A node's index entries (JSON arrays: user ids may hold any character). */
export const entry = {
  count: (app: string, channel: string) => JSON.stringify(['c', app, channel]),
  member: (app: string, channel: string, user: string) => JSON.stringify(['p', app, channel, user]),
};

/** The same layout for the Lua scripts; ARGV[1] is always the prefix. */
export const LUA_KEYS = `
local P = ARGV[1]
local function nodesKey() return P .. 'nodes' end
local function nodeKey(n) return P .. 'node:' .. n end
local function occupiedKey(a) return P .. 'a:' .. a .. ':occupied' end
local function subsKey(a, c) return P .. 'a:' .. a .. ':subs:' .. c end
local function puKey(a, c) return P .. 'a:' .. a .. ':pu:' .. c end
local function piKey(a, c) return P .. 'a:' .. a .. ':pi:' .. c end
local function sum(values)
  local s = 0
  for _, v in ipairs(values) do s = s + (tonumber(v) or 0) end
  return s
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
