import { parseChannelName } from '../channels/channel-name.js';
import { dataOf, subscribeData, unsubscribeData } from './client-message.js';
import { frames } from './frames.js';
import type { EventHandler } from './handler-context.js';
import { InvalidChannelNameError } from './wire-errors.js';

/** pusher:subscribe: join (auth per channel kind), confirm, then replay a cache channel's last event. */
export const subscribe: EventHandler = (message, session, state) => {
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
  session.send(succeeded);
  if (!name.cached) return;
  const cached = state.cache.recall(name.name);
  if (cached) {
    session.send(frames.channelEvent(cached.event, name.name, cached.data));
  } else {
    session.send(frames.cacheMiss(name.name));
    state.report({ name: 'cache_miss', channel: name.name });
  }
};

/** pusher:unsubscribe: leave quietly (no reply, nothing if not subscribed). */
export const unsubscribe: EventHandler = (message, session, state) => {
  const { channel } = dataOf(unsubscribeData, message);
  if (!session.channels.delete(channel)) return;
  state.channels.unsubscribe(session, channel);
};
