import { parseChannelName, type ChannelName } from '../channels/channel-name.js';
import { SubscriptionAbandoned } from '../channels/presence-channel.js';
import { dataOf, subscribeData, unsubscribeData } from './client-message.js';
import { frames } from './frames.js';
import type { EventHandler, HandlerContext } from './handler-context.js';
import type { AppState } from './node-state.js';
import type { Session } from './session.js';
import { InvalidChannelNameError } from './wire-errors.js';

/**
 * pusher:subscribe: join (auth per channel kind), confirm, then replay a cache channel's last
 * event. A presence channel in a cluster confirms once the cluster state has answered; a
 * refusal then still arrives as pusher:subscription_error.
 */
export const subscribe: EventHandler = (message, session, state, ctx) => {
  const data = dataOf(subscribeData, message);
  const name = parseChannelName(data.channel);
  if (!name) throw new InvalidChannelNameError(`Got ${JSON.stringify(data.channel.slice(0, 64))}.`);
  const succeeded = state.channels.subscribe(session, name, {
    socketId: session.socketId,
    auth: data.auth,
    channelData: data.channel_data,
    userId: session.userId,
  });
  session.channels.add(name.name);
  session.engaged = true;
  if (!(succeeded instanceof Promise)) {
    confirm(session, name, state, ctx, succeeded);
    return;
  }
  succeeded.then(
    (frame) => confirm(session, name, state, ctx, frame),
    (error: unknown) => {
      if (error instanceof SubscriptionAbandoned || session.closed) return;
      session.channels.delete(name.name);
      ctx.refuse(session, error);
    },
  );
};

function confirm(session: Session, name: ChannelName, state: AppState, ctx: HandlerContext, succeeded: Buffer): void {
  if (session.closed || !session.channels.has(name.name)) return;
  session.send(succeeded);
  if (!name.cached) return;
  const cached = state.cache.recall(name.name) ?? state.channels.cluster.recall(name.name);
  if (!(cached instanceof Promise)) return replay(session, name.name, state, cached);
  cached.then(
    (event) => replay(session, name.name, state, event),
    (error: unknown) => {
      ctx.reportError(error);
      replay(session, name.name, state, undefined);
    },
  );
}

function replay(session: Session, channel: string, state: AppState, cached: { event: string; data: string } | undefined): void {
  if (session.closed || !session.channels.has(channel)) return;
  if (cached) {
    session.send(frames.channelEvent(cached.event, channel, cached.data));
  } else {
    session.send(frames.cacheMiss(channel));
    state.report({ name: 'cache_miss', channel });
  }
}

/** pusher:unsubscribe: leave quietly (no reply, nothing if not subscribed). */
export const unsubscribe: EventHandler = (message, session, state) => {
  const { channel } = dataOf(unsubscribeData, message);
  if (!session.channels.delete(channel)) return;
  state.channels.unsubscribe(session, channel);
};
