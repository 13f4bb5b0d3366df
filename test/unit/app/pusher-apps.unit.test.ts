import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/app/config.js';
import { allApps, parseAppsFile } from '../../../src/app/pusher-apps-file.js';
import { PUSHER_APP_FILE, STOREFLOW_APP_SETTINGS, storeflowPusherApp } from '../../../src/app/storeflow-pusher-app.js';

const SECRET = 'a-secret-of-sixteen+';

describe('STOREFLOW_APPS_FILE', () => {
  it('reads an app with Pusher defaults for what it leaves out', () => {
    expect(parseAppsFile(JSON.stringify({ apps: [{ id: '1001', key: 'shop-key', secret: SECRET }] }))).toEqual([
      {
        id: '1001', key: 'shop-key', secret: SECRET, enabled: true, clientEventsEnabled: false, maxConnections: 0,
        maxMessageBytes: 10_240, allowedOrigins: ['*'], activityTimeoutSeconds: 30, webhook: null, subscriptionCountEnabled: false,
      },
    ]);
  });

  it('reads every setting', () => {
    const [app] = parseAppsFile(JSON.stringify({
      apps: [{
        id: 'shop', key: 'k', secret: SECRET, enabled: false, client_events: true, max_connections: 500, max_message_size: 2048,
        allowed_origins: ['https://shop.example'], activity_timeout: 60, subscription_count: true,
        webhook: { url: 'https://shop.example/pusher', events: ['channel_occupied', 'member_added'] },
      }],
    }));
    expect(app).toEqual({
      id: 'shop', key: 'k', secret: SECRET, enabled: false, clientEventsEnabled: true, maxConnections: 500, maxMessageBytes: 2048,
      allowedOrigins: ['https://shop.example'], activityTimeoutSeconds: 60, subscriptionCountEnabled: true,
      webhook: { url: 'https://shop.example/pusher', events: ['channel_occupied', 'member_added'] },
    });
  });

  it.each([
    ['not JSON', '{apps:', /not valid JSON/],
    ['no apps list', '[]', /invalid Pusher apps/],
    ['a short secret', JSON.stringify({ apps: [{ id: '1', key: 'k', secret: 'short' }] }), /apps\.0\.secret/],
    ['a key with a slash', JSON.stringify({ apps: [{ id: '1', key: 'a/b', secret: SECRET }] }), /apps\.0\.key/],
    ['an unknown webhook event', JSON.stringify({ apps: [{ id: '1', key: 'k', secret: SECRET, webhook: { url: 'https://x.example', events: ['everything'] } }] }), /apps\.0\.webhook\.events/],
    ['a non-http webhook URL', JSON.stringify({ apps: [{ id: '1', key: 'k', secret: SECRET, webhook: { url: 'ftp://x.example', events: ['cache_miss'] } }] }), /apps\.0\.webhook\.url/],
    ['an unknown field', JSON.stringify({ apps: [{ id: '1', key: 'k', secret: SECRET, max_conections: 5 }] }), /max_conections/],
  ])('refuses %s, naming the field', (_case, text, message) => {
    expect(() => parseAppsFile(text, 'apps.json')).toThrow(message);
  });

  it("refuses an id or key used twice, StoreFlow's own app included", () => {
    const own = { ...STOREFLOW_APP_SETTINGS, id: '1', key: 'own', secret: SECRET };
    const [other] = parseAppsFile(JSON.stringify({ apps: [{ id: '2', key: 'own', secret: SECRET }] }));
    expect(() => allApps(own, [other!])).toThrow(/key "own" is used twice/);
    expect(allApps(own, [{ ...other!, key: 'other' }]).map((a) => a.id)).toEqual(['1', '2']);
  });
});

describe("StoreFlow's own Pusher app", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes the credentials from PUSHER_APP_ID, PUSHER_APP_KEY and PUSHER_APP_SECRET', async () => {
    const config = loadConfig({ PUSHER_APP_ID: '77', PUSHER_APP_KEY: 'key77', PUSHER_APP_SECRET: SECRET, STOREFLOW_DATA_DIR: '/nonexistent/never-written' });
    expect(await storeflowPusherApp(config)).toEqual({ source: 'env', app: { ...STOREFLOW_APP_SETTINGS, id: '77', key: 'key77', secret: SECRET } });
  });

  it('refuses half a set of credentials', () => {
    expect(() => loadConfig({ PUSHER_APP_KEY: 'key77' })).toThrow(/PUSHER_APP_ID, PUSHER_APP_KEY, PUSHER_APP_SECRET: set all three or none/);
  });

  it('without them, generates credentials once into the data folder, readable by the owner only', async () => {
    dir = await mkdtemp(join(tmpdir(), 'storeflow-pusher-'));
    const config = loadConfig({ STOREFLOW_DATA_DIR: join(dir, 'data') });
    const first = await storeflowPusherApp(config);
    const file = join(dir, 'data', PUSHER_APP_FILE);
    expect(first).toMatchObject({ source: 'file', file });
    expect(first.app.id).toMatch(/^\d+$/);
    expect(first.app.key).toMatch(/^[0-9a-f]{20}$/);
    expect(first.app.secret).toMatch(/^[0-9a-f]{40}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ id: first.app.id, key: first.app.key, secret: first.app.secret });
    expect(await storeflowPusherApp(config)).toEqual(first);
  });

  it('agrees on one set of credentials when two processes start on one data folder at once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'storeflow-pusher-'));
    const config = loadConfig({ STOREFLOW_DATA_DIR: dir });
    const results = await Promise.all(Array.from({ length: 8 }, () => storeflowPusherApp(config)));
    expect(new Set(results.map((r) => r.app.secret)).size).toBe(1);
  });

  it('refuses a damaged credentials file instead of replacing it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'storeflow-pusher-'));
    await writeFile(join(dir, PUSHER_APP_FILE), '{"id":"1"}');
    await expect(storeflowPusherApp(loadConfig({ STOREFLOW_DATA_DIR: dir }))).rejects.toThrow(/not a valid Pusher app file/);
  });
});
