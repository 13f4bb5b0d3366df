import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Pusher from 'pusher';

/**
 * A real webhook receiver on 127.0.0.1 that checks each request the way an integration
 * would, with the `pusher` SDK's `webhook(request).isValid()`. `behave` decides per request
 * (0-based) whether to accept it, fail it with a 500, or never answer.
 */
export type ReceiverBehaviour = (n: number) => 'ok' | 'fail' | 'hang';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  valid: boolean;
  answered: 'ok' | 'fail' | 'hang';
  events: Array<Record<string, unknown>>;
  timeMs: number;
}

export interface PusherWebhookReceiver {
  url: string;
  calls: ReceivedWebhook[];
  /** Events of the requests it accepted with a 2xx, in arrival order. */
  acceptedEvents(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startPusherWebhookReceiver(
  app: { id: string; key: string; secret: string },
  behave: ReceiverBehaviour = () => 'ok',
): Promise<PusherWebhookReceiver> {
  const verifier = new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1' });
  const calls: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const webhook = verifier.webhook({ headers: req.headers, rawBody });
      const valid = webhook.isValid();
      const answered = behave(calls.length);
      calls.push({
        headers: req.headers,
        rawBody,
        valid,
        answered,
        events: valid ? (webhook.getEvents() as unknown as Array<Record<string, unknown>>) : [],
        timeMs: valid ? webhook.getTime().getTime() : Number.NaN,
      });
      if (answered === 'hang') return;
      res.writeHead(answered === 'ok' ? 200 : 500, { 'content-type': 'text/plain' }).end(answered);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/pusher/webhooks`,
    calls,
    acceptedEvents: () => calls.filter((c) => c.answered === 'ok').flatMap((c) => c.events),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
