import { loadConfig, type Config } from './config.js';
import { DEMO_PASSWORD, DEMO_USERS } from './demo-seed.js';
import { createStoreFlow, openDatabase } from './storeflow.js';
import { migrate } from '../store/index.js';
import { replayCommand } from './cli-replay.js';
import { startEnvironment } from './start-options.js';

/**
 * CLI: `storeflow [start] [--role web,realtime,worker]` runs the server (--role overrides
 * STOREFLOW_ROLES); `storeflow migrate` applies migrations and exits;
 * `storeflow replay …` replays part of the log to one subscription (see cli-replay.ts).
 */
const USAGE = 'usage: storeflow [start [--role web,realtime,worker] | migrate | replay …]';

async function start(config: Config): Promise<void> {
  const app = await createStoreFlow(config);
  const log = app.http.log;
  if (app.seeded) {
    log.info({ stores: app.seeded.storeIds }, 'seeded the demo merchant');
    console.log(
      [
        '',
        'Demo merchant seeded. Sign in with any of these (password for all: ' + DEMO_PASSWORD + '):',
        ...DEMO_USERS.map((u) => `  ${u.email.padEnd(30)} ${Object.values(u.stores)[0]}`),
        `Stores: ${app.seeded.storeIds.join(', ')}`,
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const started = Date.now();
    // The budget: sockets (3 s), in-flight requests and batches, webhooks (3 s) fit in it.
    const force = setTimeout(() => {
      log.error({ signal }, 'shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, 10_000).unref();
    let code = 0;
    try {
      await app.stop();
      log.info({ ms: Date.now() - started }, 'stopped');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = 1;
    } finally {
      clearTimeout(force);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await app.start();
  const address = await app.http.listen({ port: config.PORT, host: config.HOST });
  log.info(
    { database: app.db.kind, dataDir: app.db.kind === 'pglite' ? config.dataDir : undefined, roles: [...config.roles] },
    `StoreFlow listening on ${address}`,
  );
  const { app: pusher, source, file } = app.pusher;
  log.info(
    { app_id: pusher.id, key: pusher.key, credentials: source === 'env' ? 'PUSHER_APP_* environment' : file, apps: app.realtime?.apps.length },
    `Pusher-compatible WebSockets at ${address.replace(/^http/, 'ws')}/app/${pusher.key}`,
  );
  if (config.roles.has('web')) {
    const store = app.seeded?.storeIds[0] ?? 1;
    log.info(`Screens: ${address}/board (staff sign-in), ${address}/shop/${store} (storefront), ${address}/monitor (owners)`);
  }
  if (source === 'file' && app.db.kind === 'postgres') {
    log.warn('PUSHER_APP_ID/KEY/SECRET are not set: every node of a cluster must share them, or auth signed by one node fails on another');
  }
}

async function main(argv: string[]): Promise<void> {
  // `npm start -- --role worker` passes the options without the command.
  const command = argv[0] === undefined || argv[0].startsWith('--') ? 'start' : argv[0];
  const args = command === argv[0] ? argv.slice(1) : argv;
  switch (command) {
    case 'start':
      return start(loadConfig(startEnvironment(args, process.env)));
    case 'migrate': {
      const config = loadConfig();
      const db = await openDatabase(config);
      const result = await migrate(db);
      console.log(result.applied.length ? `applied: ${result.applied.join(', ')}` : 'nothing to apply', `(schema version ${result.current})`);
      await db.close();
      return;
    }
    case 'replay':
      process.exitCode = await replayCommand(loadConfig(), args);
      return;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
