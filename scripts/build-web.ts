import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * Builds the screens (web/ → dist/web) when they are missing or stale. Stale means the
 * content hash of their inputs (web/, the domain modules the browser imports, the lockfile)
 * differs from the one stamped into dist/web by the last build, so a second `npm start`
 * does not rebuild and a `git pull` that changes a screen does. `--force` always builds.
 * Concurrent callers (parallel test files) take turns through a lock directory.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist', 'web');
const STAMP = join(OUT, '.build-stamp');
const LOCK = join(ROOT, 'dist', '.web-build.lock');
const INPUTS = ['web', 'src/domain', 'package-lock.json'];

async function files(path: string): Promise<string[]> {
  const s = await stat(path).catch(() => null);
  if (!s) return [];
  if (s.isFile()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries.filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.')).map((e) => files(join(path, e.name))),
  );
  return nested.flat();
}

export async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const all = (await Promise.all(INPUTS.map((p) => files(join(ROOT, p))))).flat().sort();
  for (const f of all) {
    hash.update(relative(ROOT, f)).update('\0').update(await readFile(f)).update('\0');
  }
  return hash.digest('hex');
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      const age = Date.now() - ((await stat(LOCK).catch(() => null))?.mtimeMs ?? Date.now());
      if (age > 180_000) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build held ${LOCK} for too long`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

/** Returns whether it built. */
export async function ensureWebBuild(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  return withLock(async () => {
    const hash = await sourceHash();
    const current = existsSync(join(OUT, 'index.html')) ? await readFile(STAMP, 'utf8').catch(() => '') : '';
    if (!options.force && current.trim() === hash) return false;
    const { build } = await import('vite');
    if (!options.quiet) console.log('Building the web screens (web/ → dist/web)…');
    await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: options.quiet ? 'error' : 'warn' });
    await writeFile(STAMP, hash + '\n');
    return true;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes('--force');
  ensureWebBuild({ force })
    .then((built) => {
      if (!built) console.log('Web screens are up to date (dist/web).');
    })
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    });
}
