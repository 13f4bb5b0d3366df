import type { PusherApp, Publication } from '../contracts.js';
import { isPublishableChannel, isValidServerEventName, isValidSocketId } from './channel-names.js';
import { PusherHttpError } from './http-api-errors.js';
import type { BatchItem, TriggerBody } from './http-api-schemas.js';

export const MAX_CHANNELS_PER_EVENT = 100;
export const MAX_EVENTS_PER_BATCH = 10;
/** Pusher's data limit, used when an app sets no maxMessageBytes of its own. */
export const DEFAULT_MAX_DATA_BYTES = 10 * 1024;

/** A validated publication and the channel attributes its caller asked to get back. */
export interface CheckedPublication {
  publication: Publication;
  info: string | undefined;
}

/** POST /events: at most 100 distinct valid channels; the same checks as a batch item. */
export function checkTrigger(app: PusherApp, body: TriggerBody): CheckedPublication {
  const channels = [...new Set(body.channels ?? (body.channel === undefined ? [] : [body.channel]))];
  if (channels.length === 0) throw new PusherHttpError('BODY_INVALID', 'no channel given');
  if (channels.length > MAX_CHANNELS_PER_EVENT) {
    throw new PusherHttpError('TOO_MANY_CHANNELS', `${channels.length} given`);
  }
  return check(app, channels, body);
}

/** POST /batch_events: at most 10 items, all checked before any is published. */
export function checkBatch(app: PusherApp, batch: readonly BatchItem[]): CheckedPublication[] {
  if (batch.length > MAX_EVENTS_PER_BATCH) throw new PusherHttpError('BATCH_TOO_LARGE', `${batch.length} given`);
  return batch.map((item) => check(app, [item.channel], item));
}

function check(
  app: PusherApp,
  channels: string[],
  e: { name: string; data: string; socket_id?: string | undefined; info?: string | undefined },
): CheckedPublication {
  const invalid = channels.find((c) => !isPublishableChannel(c));
  if (invalid !== undefined) throw new PusherHttpError('CHANNEL_NAME_INVALID', JSON.stringify(invalid.slice(0, 210)));
  if (!isValidServerEventName(e.name)) throw new PusherHttpError('EVENT_NAME_INVALID');
  if (e.socket_id !== undefined && !isValidSocketId(e.socket_id)) throw new PusherHttpError('SOCKET_ID_INVALID');
  const limit = app.maxMessageBytes > 0 ? app.maxMessageBytes : DEFAULT_MAX_DATA_BYTES;
  const bytes = Buffer.byteLength(e.data, 'utf8');
  if (bytes > limit) throw new PusherHttpError('DATA_TOO_LARGE', `${bytes} bytes, at most ${limit}`);
  return {
    publication: { appId: app.id, channels, event: e.name, data: e.data, excludeSocketId: e.socket_id },
    info: e.info,
  };
}
