import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA, loadConfig } from '../../../src/app/config.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('configuration', () => {
  it('lists every variable in the README table with its default', () => {
    const rows = new Map([...readme.matchAll(/^\| `([A-Z_]+)` \| (.+?) \|/gm)].map((m) => [m[1], m[2]]));
    for (const [name, schema] of Object.entries(CONFIG_SCHEMA.shape)) {
      const parsed = schema.safeParse(undefined);
      const expected = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '(unset)';
      expect(rows.get(name), name).toBe(expected);
    }
  });

  it('uses the embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.dataDir.endsWith('.storeflow')).toBe(true);
  });

  it('runs the web, realtime and worker roles by default, and any subset when asked', () => {
    expect([...loadConfig({}).roles]).toEqual(['web', 'realtime', 'worker']);
    expect([...loadConfig({ STOREFLOW_ROLES: 'realtime' }).roles]).toEqual(['realtime']);
    expect(() => loadConfig({ STOREFLOW_ROLES: 'web,sockets' })).toThrow('STOREFLOW_ROLES');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(8080);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ COOKIE_SECURE: 'yes' }, 'COOKIE_SECURE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ REDIS_KEY_PREFIX: 'has space' }, 'REDIS_KEY_PREFIX'],
    [{ REDIS_KEY_PREFIX: 'x'.repeat(65) }, 'REDIS_KEY_PREFIX'],
    [{ REALTIME_NODE_TTL_MS: '100' }, 'REALTIME_NODE_TTL_MS'],
    [{ REALTIME_NODE_TTL_MS: 'soon' }, 'REALTIME_NODE_TTL_MS'],
    [{ DATABASE_CONNECT_TIMEOUT_MS: '0' }, 'DATABASE_CONNECT_TIMEOUT_MS'],
    [{ DATABASE_STATEMENT_TIMEOUT_MS: '1.5' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
    [{ PIPELINE_LEASE_RETRY_MS: '-5' }, 'PIPELINE_LEASE_RETRY_MS'],
  ])('refuses %o naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });
});
