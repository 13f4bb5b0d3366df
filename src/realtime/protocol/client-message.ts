import { z } from 'zod';
import { MalformedMessageError } from './wire-errors.js';

/**
 * Validation of what clients send, at the edge: a JSON text frame `{event, channel?, data?}`.
 * `data` is an object for pusher:* events; some clients send it JSON-encoded, so both are
 * accepted. Anything else is a MalformedMessageError (pusher:error 4200, connection stays).
 */
const envelope = z.object({
  event: z.string().min(1).max(200),
  channel: z.string().optional(),
  data: z.unknown().optional(),
});

export type ClientMessage = z.infer<typeof envelope>;

export function parseClientMessage(text: string): ClientMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MalformedMessageError('The frame is not valid JSON.');
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) throw new MalformedMessageError('"event" must be a string of 1 to 200 characters.');
  return parsed.data;
}

export const subscribeData = z.object({
  channel: z.string(),
  auth: z.string().optional(),
  channel_data: z.string().optional(),
});

export const unsubscribeData = z.object({ channel: z.string() });

export const signinData = z.object({ auth: z.string(), user_data: z.string() });

/** The message's `data` checked against `schema`; a JSON-encoded string is decoded first. */
export function dataOf<S extends z.ZodType>(schema: S, message: ClientMessage): z.infer<S> {
  let data = message.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      throw new MalformedMessageError(`"data" of ${message.event} is not valid JSON.`);
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || 'data').join(', ');
    throw new MalformedMessageError(`Invalid "data" of ${message.event} (${fields}).`);
  }
  return parsed.data;
}
