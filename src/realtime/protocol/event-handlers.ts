import { clientEvent } from './client-event-handler.js';
import { frames } from './frames.js';
import type { EventHandler } from './handler-context.js';
import { signin } from './signin-handler.js';
import { subscribe, unsubscribe } from './subscription-handlers.js';

/** The dispatch table: one handler per pusher:* event a client may send. */
export const EVENT_HANDLERS: ReadonlyMap<string, EventHandler> = new Map<string, EventHandler>([
  ['pusher:subscribe', subscribe],
  ['pusher:unsubscribe', unsubscribe],
  ['pusher:ping', (_message, session) => session.send(frames.pong())],
  // Any frame already counts as activity (and answers a pending ping): nothing else to do.
  ['pusher:pong', () => {}],
  ['pusher:signin', signin],
]);

/** The handler for an event name: client-* events, then the table; undefined when unknown. */
export function handlerFor(event: string): EventHandler | undefined {
  return event.startsWith('client-') ? clientEvent : EVENT_HANDLERS.get(event);
}
