import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { PusherApp, WebhookEventName } from '../realtime/index.js';
import { APP_ID } from './config.js';

/**
 * Further Pusher apps served beside StoreFlow's own (STOREFLOW_APPS_FILE), so another
 * backend — a Laravel app with BROADCAST_CONNECTION=pusher pointed at us — can broadcast
 * through this server. Snake_case like Reverb's and Soketi's app settings; unset fields take
 * Pusher's defaults. Validated once at start: a bad file stops the process naming the field.
 *
 *   { "apps": [ { "id": "1001", "key": "shop-key", "secret": "…", "client_events": true,
 *                 "webhook": { "url": "https://shop.example/pusher/webhook", "events": ["channel_occupied"] } } ] }
 */
const WEBHOOK_EVENTS = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
  'subscription_count',
] as const satisfies readonly WebhookEventName[];

const appEntry = z.strictObject({
  id: z.string().regex(APP_ID, 'letters, digits, ".", "_" or "-" (1 to 64)'),
  key: z.string().regex(APP_ID, 'letters, digits, ".", "_" or "-" (1 to 64)'),
  secret: z.string().min(16, 'at least 16 characters').max(256),
  enabled: z.boolean().default(true),
  client_events: z.boolean().default(false),
  /** 0 = unlimited */
  max_connections: z.number().int().min(0).default(0),
  /** Bytes of one client frame or published event's data. */
  max_message_size: z.number().int().min(256).max(1024 * 1024).default(10_240),
  allowed_origins: z.array(z.string().min(1)).min(1).default(['*']),
  activity_timeout: z.number().int().min(1).max(3600).default(30),
  subscription_count: z.boolean().default(false),
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }),
      events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
    })
    .nullable()
    .default(null),
});

export const APPS_FILE_SCHEMA = z.strictObject({ apps: z.array(appEntry) });

export function toPusherApp(entry: z.infer<typeof appEntry>): PusherApp {
  return {
    id: entry.id,
    key: entry.key,
    secret: entry.secret,
    enabled: entry.enabled,
    clientEventsEnabled: entry.client_events,
    maxConnections: entry.max_connections,
    maxMessageBytes: entry.max_message_size,
    allowedOrigins: entry.allowed_origins,
    activityTimeoutSeconds: entry.activity_timeout,
    webhook: entry.webhook,
    subscriptionCountEnabled: entry.subscription_count,
  };
}

/** Parses the file's text; throws one message naming every bad field. */
export function parseAppsFile(text: string, file = 'STOREFLOW_APPS_FILE'): PusherApp[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = APPS_FILE_SCHEMA.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`${file}: invalid Pusher apps\n${lines.join('\n')}`);
  }
  return parsed.data.apps.map(toPusherApp);
}

export async function loadAppsFile(file: string): Promise<PusherApp[]> {
  return parseAppsFile(await readFile(file, 'utf8'), file);
}

/** StoreFlow's app first; ids and keys must be unique across all of them. */
export function allApps(own: PusherApp, others: readonly PusherApp[]): PusherApp[] {
  const apps = [own, ...others];
  for (const field of ['id', 'key'] as const) {
    const seen = new Set<string>();
    for (const app of apps) {
      if (seen.has(app[field])) throw new Error(`Pusher app ${field} ${JSON.stringify(app[field])} is used twice (StoreFlow's own app counts)`);
      seen.add(app[field]);
    }
  }
  return apps;
}
