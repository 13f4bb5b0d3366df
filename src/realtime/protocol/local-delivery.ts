import { parseChannelName } from '../channels/channel-name.js';
import type { FanoutMessage } from '../fanout/fanout.js';
import { frames } from './frames.js';
import type { NodeState } from './node-state.js';
import type { Session } from './session.js';
import { TerminatedError, type WireError } from './wire-errors.js';

/**
 * What this node does with a fan-out message: one frame per channel, built once and written
 * as the same Buffer to every local subscriber (but `excludeSocketId`). Server-published
 * events to cache channels are remembered even when nobody here is subscribed.
 */
export function deliverLocally(
  state: NodeState,
  message: FanoutMessage,
  kick: (session: Session, error: WireError) => void,
): void {
  switch (message.kind) {
    case 'terminate_user': {
      const app = state.byId(message.appId);
      for (const conn of app?.users.connectionsOf(message.userId) ?? []) {
        const session = app?.sessions.get(conn.socketId);
        if (session) kick(session, new TerminatedError());
      }
      return;
    }
    case 'member': {
      const channel = state.byId(message.appId)?.channels.find(message.channel);
      if (channel?.kind !== 'presence') return;
      const frame =
        message.change === 'added'
          ? frames.memberAdded(message.channel, message.userId, parseInfo(message.userInfo))
          : frames.memberRemoved(message.channel, message.userId);
      channel.broadcast(frame, message.excludeSocketId);
      return;
    }
    case 'count': {
      const app = state.byId(message.appId);
      const channel = app?.channels.find(message.channel);
      if (!app?.app.subscriptionCountEnabled || !channel || channel.kind === 'presence' || channel.kind === 'user') return;
      channel.broadcast(frames.subscriptionCount(message.channel, message.count));
      return;
    }
    case 'event': {
      const { publication: p, origin, userId } = message;
      const app = state.byId(p.appId);
      if (!app) return;
      for (const name of p.channels) {
        if (origin === 'server' && parseChannelName(name)?.cached) app.cache.remember(name, p.event, p.data);
        const channel = app.channels.find(name);
        if (channel) channel.broadcast(frames.channelEvent(p.event, name, p.data, userId), p.excludeSocketId);
      }
    }
  }
}

/** user_info as published by the node that saw the member join; `{}` if it is not JSON. */
function parseInfo(json: string | undefined): unknown {
  if (json === undefined) return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return {};
  }
}
