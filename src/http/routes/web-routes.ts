import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/index.js';

/**
 * The screens (web/, built by Vite into dist/web): hashed assets under /assets/ cached for a
 * year (their names change with their content), and index.html for every screen's URL, never
 * cached, so a new build reaches browsers at their next navigation. Only the screens' own
 * paths answer HTML: an unknown /api/… (or anything else) stays a JSON 404.
 *
 * Without a build the API works as ever and the screens' URLs answer WEB_ASSETS_MISSING.
 */
export const SCREEN_PATHS = [
  '/',
  '/login',
  '/board',
  '/monitor',
  '/shop/:storeId(^\\d{1,15}$)',
  '/track/:publicId(^[A-Za-z0-9_-]{16,64}$)',
] as const;

export async function webRoutes(app: FastifyInstance, deps: { distDir: string }) {
  const built = () => existsSync(join(deps.distDir, 'index.html'));
  const assets = join(deps.distDir, 'assets');
  if (existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      index: false,
      decorateReply: false,
      maxAge: '365d',
      immutable: true,
    });
  }

  for (const path of SCREEN_PATHS) {
    app.get(path, { schema: { hide: true } }, async (_request, reply) => {
      if (!built()) throw new AppError('WEB_ASSETS_MISSING');
      const html = await readFile(join(deps.distDir, 'index.html'), 'utf8');
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    });
  }
}
