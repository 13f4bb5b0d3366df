import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { isCI, type TestDatabase } from './databases.js';
import { describeOnPostgres } from './postgres-suite.js';

const run = promisify(execFile);

/**
 * A failure suite on the shared PostgreSQL (a fresh database per suite) that also starts
 * private redis-server processes. Without CI, a missing redis-server binary skips it with
 * "skipped: no redis-server …"; with CI=true it runs and fails loudly.
 */
export async function describeWithPrivateRedis(title: string, body: (database: () => TestDatabase) => void): Promise<void> {
  const missing = isCI ? null : await run('redis-server', ['--version']).then(
    () => null,
    (e: unknown) => `no redis-server binary (${(e as Error).message})`,
  );
  if (missing) {
    describe.skip(`${title} — skipped: ${missing}`, () => {
      it('needs redis-server', () => {});
    });
    console.warn(`skipped "${title}": ${missing}`);
    return;
  }
  await describeOnPostgres(title, body);
}
