import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LiveFeed, storeEventsCatchUp, type ConnectionState } from '../../web/src/realtime/index.js';
import { TEST_PUSHER_APP } from './http-app.js';
import { testApp } from './realtime-apps.js';
import { pusherClient, type PusherClient } from './realtime-clients.js';

/**
 * Screens for the failure suites: pusher-js clients driven by the web app's LiveFeed (live
 * over WebSockets, catch-up over HTTP, reconnect and resubscribe by pusher-js), connected
 * through the test's load balancer. Each writes what it delivers to its own log, a JSONL file,
 * one line per event in delivery order — the suites judge the clients by those files.
 */
export const ORDER_EVENTS = ['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated'] as const;

export interface FeedLogEntry {
  position: string;
  name: string;
  origin: 'live' | 'catch-up';
  public_id: string;
  version: number;
  at: number;
}

export interface FeedClient {
  readonly name: string;
  readonly file: string;
  readonly feed: LiveFeed;
  readonly pusher: PusherClient;
  readonly states: ConnectionState[];
  readonly errors: unknown[];
  /** The client's own log, read back from its file. */
  entries(): FeedLogEntry[];
  stop(): void;
}

export function startFeedClient(o: { name: string; dir: string; port: number; baseUrl: string; cookie: string; storeId?: number }): FeedClient {
  const file = join(o.dir, `${o.name}.jsonl`);
  writeFileSync(file, '');
  const pusher = pusherClient(o.port, testApp(TEST_PUSHER_APP));
  const states: ConnectionState[] = [];
  const errors: unknown[] = [];
  const storeId = o.storeId ?? 1;
  const feed = new LiveFeed(pusher, {
    channel: `private-store.${storeId}.orders`,
    events: ORDER_EVENTS,
    catchUp: storeEventsCatchUp(storeId, { baseUrl: o.baseUrl, headers: () => ({ cookie: o.cookie }), limit: 500 }),
    onEvent: (e, origin) => {
      const entry: FeedLogEntry = {
        position: e.position,
        name: e.name,
        origin,
        public_id: String(e.payload.public_id),
        version: Number(e.payload.version),
        at: Date.now(),
      };
      appendFileSync(file, JSON.stringify(entry) + '\n');
    },
    onState: (s) => states.push(s),
    onError: (e) => errors.push(e),
    pollIntervalMs: 500,
    settleMs: 300,
  });
  feed.start();
  return {
    name: o.name,
    file,
    feed,
    pusher,
    states,
    errors,
    entries: () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as FeedLogEntry),
    stop: () => {
      feed.stop();
      pusher.disconnect();
    },
  };
}
