import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, sourceHash } from '../../scripts/build-web.js';
import { WEB_DIST_DIR } from '../../src/app/storeflow.js';
import { installErrorHandler } from '../../src/http/error-handler.js';
import { webRoutes } from '../../src/http/routes/web-routes.js';
import { expectError, login, moveTo, placeOrder, startTestApp, TEST_PUSHER_APP, type Session, type TestApp } from '../support/http-app.js';

/** The web role serving the built screens, and the two small endpoints the screens need. */
describe('the screens, served by the web role', () => {
  let t: TestApp;
  let staff: Session;

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true });
    t = await startTestApp();
    staff = await login(t.http, 'staff');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('is built once: the stamp holds the hash of the sources, and a second start does not rebuild', async () => {
    expect((await readFile(join(WEB_DIST_DIR, '.build-stamp'), 'utf8')).trim()).toBe(await sourceHash());
    expect(await ensureWebBuild({ quiet: true })).toBe(false);
  });

  it('answers index.html, never cached, for every screen URL', async () => {
    for (const url of ['/', '/login', '/board', '/monitor', '/shop/1', '/track/abcdefghijklmnopqrstuv']) {
      const res = await t.http.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="app"></div>');
    }
  });

  it('serves hashed assets with a long immutable cache, and a strict CSP that allows the app', async () => {
    const html = (await t.http.inject({ url: '/board' })).body;
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const url of assets) {
      const res = await t.http.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control']).toMatch(/max-age=31536000.*immutable|immutable.*max-age=31536000/);
    }
    const csp = String((await t.http.inject({ url: '/board' })).headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toMatch(/connect-src 'self' ws: wss:/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('keeps unknown API paths, unknown assets and unknown pages JSON 404s', async () => {
    for (const url of ['/api/nope', '/api/stores/1/nope', '/assets/nope.js', '/track/short', '/shop/abc', '/nowhere']) {
      expectError(await t.http.inject({ url }), 'NOT_FOUND');
    }
  });

  it('tells the browser the public Pusher key (never the secret)', async () => {
    const res = await t.http.inject({ url: '/api/client-config' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ pusher: { key: TEST_PUSHER_APP.key, cluster: 'local' } });
    expect(res.body).not.toContain(TEST_PUSHER_APP.secret);
  });

  it("answers where a store's log ends: events after it are exactly the ones that come later", async () => {
    const head = async () => {
      const res = await t.http.inject({ url: '/api/stores/1/events/head', headers: staff.headers });
      expect(res.statusCode, res.body).toBe(200);
      return String(res.json().checkpoint);
    };
    const before = await head();
    const order = await placeOrder(t.http, staff);
    await moveTo(t.http, staff, order, 'accepted');
    const after = await head();
    const res = await t.http.inject({ url: `/api/stores/1/events?after=${before}&limit=1000`, headers: staff.headers });
    const events = res.json().events as Array<{ name: string; checkpoint: string; payload: { public_id?: string } }>;
    expect(events.filter((e) => e.payload.public_id === order.public_id).map((e) => e.name)).toEqual(['OrderCreated', 'OrderStatusUpdated']);
    expect(events.at(-1)?.checkpoint).toBe(after);
    const later = await t.http.inject({ url: `/api/stores/1/events?after=${after}`, headers: staff.headers });
    expect(later.json().events).toEqual([]);
  });

  it('refuses the head of a store that is not yours, without a session, or of a malformed store id', async () => {
    expectError(await t.http.inject({ url: '/api/stores/1/events/head' }), 'AUTH_REQUIRED');
    expectError(await t.http.inject({ url: '/api/stores/3/events/head', headers: staff.headers }), 'TENANT_FORBIDDEN');
    for (const id of ['abc', '-1', '1.5', '99999999999999999999']) {
      expectError(await t.http.inject({ url: `/api/stores/${id}/events/head`, headers: staff.headers }), 'VALIDATION_FAILED');
    }
  });
});

describe('the screens without a build', () => {
  let dir: string;
  const app = Fastify();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storeflow-no-web-'));
    installErrorHandler(app);
    await app.register(webRoutes, { distDir: dir });
    app.get('/api/ping', async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers WEB_ASSETS_MISSING on screen URLs while the API keeps working', async () => {
    expectError(await app.inject({ url: '/board' }), 'WEB_ASSETS_MISSING');
    expectError(await app.inject({ url: '/assets/index.js' }), 'NOT_FOUND');
    expect((await app.inject({ url: '/api/ping' })).json()).toEqual({ ok: true });
  });
});
