import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ensureWebBuild } from '../../scripts/build-web.js';
import { startRealtimeApp, type RealtimeApp } from './storeflow-realtime.js';

/**
 * Browser tests drive Debian's chromium (headless) with playwright-core against StoreFlow
 * running in process on 127.0.0.1 with the built screens. Each "person" is a browser of
 * their own with a fresh profile (--user-data-dir), so sessions never mix.
 *
 * Without chromium the suites skip with a message; with CI=true they fail instead.
 */
export const CHROMIUM = process.env.STOREFLOW_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);

export function chromiumPresent(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`no chromium at ${CHROMIUM}: CI needs it (.ci/run installs the Debian chromium package)`);
  console.warn(`skipped: no chromium at ${CHROMIUM}`);
  return false;
}

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Console errors and CSP violations seen by this browser. */
  problems: string[];
  close(): Promise<void>;
}

export async function openBrowser(baseURL: string, viewport = { width: 1440, height: 900 }): Promise<Person> {
  const profile = await mkdtemp(join(tmpdir(), 'storeflow-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    baseURL,
    viewport,
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection to/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** StoreFlow (PGlite, every role) on 127.0.0.1:0 with freshly built screens. */
export async function startBrowserApp(): Promise<RealtimeApp> {
  await ensureWebBuild({ quiet: true });
  return startRealtimeApp();
}

export async function signIn(page: Page, email: string, password = 'storeflow-demo'): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/board');
  await poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('connected');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

export const card = (page: Page, publicId: string) => page.locator(`[data-testid="order-card"][data-public-id="${publicId}"]`);

/** expect.poll with a timeout fit for a browser on a busy two-core machine (vitest's default is 1 s). */
export function poll<T>(fn: () => T | Promise<T>, timeout = 20_000) {
  return expect.poll(fn, { timeout, interval: 50 });
}
