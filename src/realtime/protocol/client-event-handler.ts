import type { EventHandler } from './handler-context.js';
import { ClientEventRateLimitedError, ClientEventRejectedError } from './wire-errors.js';

/**
 * client-* events: only on private and presence channels the sender is subscribed to, only if
 * the app allows them, at most `clientEventsPerSecond` per connection (else 4301, connection
 * stays). Relayed through the fan-out to every other subscriber, never back to the sender;
 * on presence channels the frame carries the sender's user_id.
 */
export const clientEvent: EventHandler = (message, session, state, ctx) => {
  if (!state.app.clientEventsEnabled) throw new ClientEventRejectedError('Client events are disabled for this app.');
  const name = message.channel;
  const channel = name === undefined ? undefined : state.channels.find(name);
  if (name === undefined || !channel || !session.channels.has(name)) {
    throw new ClientEventRejectedError('Subscribe to the channel before triggering client events on it.');
  }
  if (!channel.acceptsClientEvents) {
    throw new ClientEventRejectedError('Client events are only allowed on private- and presence- channels (not encrypted ones).');
  }
  if (!session.spendClientEvent(ctx.now(), ctx.limits.clientEventsPerSecond)) throw new ClientEventRateLimitedError();

  const data = typeof message.data === 'string' ? message.data : JSON.stringify(message.data ?? null);
  const userId = channel.userIdOf(session.socketId);
  const publication = { appId: state.app.id, channels: [name], event: message.event, data, excludeSocketId: session.socketId };
  ctx.fanout.publish({ kind: 'event', publication, origin: 'client', userId }).catch(ctx.reportError);
  state.report({
    name: 'client_event',
    channel: name,
    event: message.event,
    data,
    socket_id: session.socketId,
    ...(userId === undefined ? {} : { user_id: userId }),
  });
};
