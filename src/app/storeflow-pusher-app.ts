import { randomBytes, randomInt } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { PusherApp } from '../realtime/index.js';
import { APP_ID, type Config } from './config.js';

/**
 * StoreFlow's own Pusher app: the one its dashboards and tracking pages connect to and the
 * broadcaster publishes on. Its settings are fixed here; only the credentials vary.
 * Client events are off: StoreFlow's screens never whisper, and a private channel that
 * relays anything a member sends is one more thing to police.
 */
export const STOREFLOW_APP_SETTINGS: Omit<PusherApp, 'id' | 'key' | 'secret'> = {
  enabled: true,
  clientEventsEnabled: false,
  maxConnections: 0,
  maxMessageBytes: 10_240,
  allowedOrigins: ['*'],
  activityTimeoutSeconds: 30,
  webhook: null,
  subscriptionCountEnabled: false,
};

export const PUSHER_APP_FILE = 'pusher-app.json';

const credentialsFile = z.strictObject({
  id: z.string().regex(APP_ID),
  key: z.string().regex(APP_ID),
  secret: z.string().min(16).max(256),
});
type Credentials = z.infer<typeof credentialsFile>;

export interface StoreFlowPusherApp {
  app: PusherApp;
  /** Where the credentials came from: the environment, or the file generated in the data folder. */
  source: 'env' | 'file';
  file?: string;
}

/**
 * The credentials from PUSHER_APP_ID/KEY/SECRET, else from `<data dir>/pusher-app.json`,
 * written (mode 0600) with fresh random values the first time. The file is the choice in
 * PostgreSQL mode too: one node needs nothing more, and several nodes must share one set of
 * credentials anyway (a node verifies signatures another node's auth endpoint made), which
 * the environment gives them more plainly than a generated secret would.
 */
export async function storeflowPusherApp(config: Config): Promise<StoreFlowPusherApp> {
  const { PUSHER_APP_ID: id, PUSHER_APP_KEY: key, PUSHER_APP_SECRET: secret } = config;
  if (id && key && secret) return { app: { ...STOREFLOW_APP_SETTINGS, id, key, secret }, source: 'env' };
  const file = join(config.dataDir, PUSHER_APP_FILE);
  const credentials = (await readCredentials(file)) ?? (await writeCredentials(file, generateCredentials()));
  return { app: { ...STOREFLOW_APP_SETTINGS, ...credentials }, source: 'file', file };
}

/** Pusher's own shapes: a numeric id, a 20-hex key; the secret is longer than Pusher's 20 hex. */
export function generateCredentials(): Credentials {
  return {
    id: String(randomInt(100_000, 10_000_000)),
    key: randomBytes(10).toString('hex'),
    secret: randomBytes(20).toString('hex'),
  };
}

async function readCredentials(file: string): Promise<Credentials | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const parsed = credentialsFile.safeParse(safeJson(text));
  if (!parsed.success) throw new Error(`${file} is not a valid Pusher app file ({id, key, secret}); fix or delete it`);
  return parsed.data;
}

async function writeCredentials(file: string, credentials: Credentials): Promise<Credentials> {
  await mkdir(dirname(file), { recursive: true });
  // Written whole under a private name, then linked into place: link() fails if the file
  // exists, so of two processes starting on one data folder exactly one wins and the other
  // reads a complete file. chmod because writeFile's mode is masked by the umask.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await link(temp, file);
    return credentials;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await readCredentials(file)) ?? credentials;
    throw e;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
