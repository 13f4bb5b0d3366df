import { createHmac } from 'node:crypto';
import type { PusherApp } from '../../src/realtime/index.js';

/** A Pusher app for tests; override what a test is about. */
export function testApp(overrides: Partial<PusherApp> = {}): PusherApp {
  return {
    id: '1',
    key: 'app-key-1',
    secret: 'app-secret-1',
    enabled: true,
    clientEventsEnabled: true,
    maxConnections: 0,
    maxMessageBytes: 10_240,
    allowedOrigins: ['*'],
    activityTimeoutSeconds: 30,
    webhook: null,
    subscriptionCountEnabled: false,
    ...overrides,
  };
}

/**
 * Signatures computed here, in the test, from the secret (what an app's auth endpoint does),
 * not with the server's own helpers.
 */
export const testSign = {
  channel: (app: PusherApp, socketId: string, channel: string, channelData?: string) =>
    `${app.key}:${hex(app.secret, channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`)}`,
  user: (app: PusherApp, socketId: string, userData: string) => `${app.key}:${hex(app.secret, `${socketId}::user::${userData}`)}`,
};

const hex = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex');
