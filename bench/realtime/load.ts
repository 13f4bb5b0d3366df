/**
 * The load generator child of bench/realtime.ts (forked with an IPC channel): holds the
 * LoadClients and answers the parent's requests. Exits when the parent goes away.
 */
import { LoadClients, type ConnectOptions } from './load-clients.js';

export type LoadRequest =
  | { id: number; cmd: 'connect'; options: ConnectOptions }
  | { id: number; cmd: 'snapshot' | 'latencies' | 'receipts' | 'close' };

const clients = new LoadClients();

async function answer(request: LoadRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'connect':
      return clients.connect(request.options);
    case 'snapshot':
      return clients.snapshot();
    case 'latencies':
      return clients.takeLatencies();
    case 'receipts':
      return clients.takeReceipts();
    case 'close':
      clients.closeAll();
      return null;
  }
}

process.on('message', (request: LoadRequest) => {
  answer(request).then(
    (result) => process.send?.({ id: request.id, result }),
    (error: unknown) => process.send?.({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, result: 'ready' });
