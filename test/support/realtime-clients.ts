import Echo from 'laravel-echo';
import PusherModule from 'pusher-js';
import type * as PusherTypes from 'pusher-js';
import { WebSocket } from 'ws';
import type { PusherApp } from '../../src/realtime/index.js';
import { testSign } from './realtime-apps.js';
import { within } from './waiting.js';

// pusher-js is CommonJS whose typings declare `export default class Pusher`; under NodeNext
// TypeScript sees that class as `.default.default`, while at runtime the module is the class.
type PusherClass = typeof PusherTypes.default.default;
export type PusherClient = InstanceType<PusherClass>;
const Pusher = PusherModule as unknown as PusherClass;

export interface ClientIdentity {
  /** Presence identity: signed into channel_data by the custom authorizer. */
  user?: { id: string | number; info?: unknown };
  /** For pusher:signin (`pusher.signin()`). */
  signin?: { id: string; watchlist?: string[]; name?: string };
}

/**
 * A real pusher-js client (Node build) against the test server, ws only, whose channel
 * authorization and user authentication are computed in the test with the app secret.
 */
export function pusherClient(
  port: number,
  app: PusherApp,
  who: ClientIdentity = {},
  options: Partial<ConstructorParameters<PusherClass>[1]> = {},
): PusherClient {
  return new Pusher(app.key, {
    ...options,
    cluster: 'local',
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        if (channelName.startsWith('presence-')) {
          const channelData = JSON.stringify({ user_id: who.user?.id ?? 'anonymous', user_info: who.user?.info ?? {} });
          callback(null, { auth: testSign.channel(app, socketId, channelName, channelData), channel_data: channelData });
        } else {
          callback(null, { auth: testSign.channel(app, socketId, channelName) });
        }
      },
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        const userData = JSON.stringify(who.signin ?? { id: 'nobody' });
        callback(null, { auth: testSign.user(app, socketId, userData), user_data: userData });
      },
    },
  });
}

export function echoClient(pusher: PusherClient): Echo<'pusher'> {
  return new Echo({ broadcaster: 'pusher', client: pusher });
}

export function whenConnected(pusher: PusherClient, timeoutMs = 10_000): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      if (pusher.connection.state === 'connected') return resolve(pusher.connection.socket_id);
      const onChange = ({ current }: { current: string }) => {
        if (current !== 'connected') return;
        pusher.connection.unbind('state_change', onChange);
        resolve(pusher.connection.socket_id);
      };
      pusher.connection.bind('state_change', onChange);
    }),
    'pusher-js to connect',
    timeoutMs,
  );
}

/** Resolves with the next event `name` on `channel` of a pusher-js client. */
export function nextEvent<T = unknown>(pusher: PusherClient, channel: string, name: string, timeoutMs = 10_000): Promise<T> {
  return within(
    new Promise<T>((resolve) => {
      const ch = pusher.channel(channel) ?? pusher.subscribe(channel);
      const handler = (data: T) => {
        ch.unbind(name, handler);
        resolve(data);
      };
      ch.bind(name, handler);
    }),
    `${name} on ${channel}`,
    timeoutMs,
  );
}

export interface RawFrame {
  event: string;
  channel?: string;
  /** Decoded when the wire carried a JSON string. */
  data?: any;
  user_id?: string;
  raw: string;
}

/**
 * A bare `ws` socket speaking the protocol by hand, for what real clients never send.
 * Received frames are kept; `next` takes the first not-yet-taken frame that matches.
 */
export class RawClient {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly taken = new Set<RawFrame>();
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const raw = data.toString();
      let parsed: RawFrame;
      try {
        parsed = JSON.parse(raw) as RawFrame;
      } catch {
        parsed = { event: '', raw };
      }
      let decoded = parsed.data;
      if (typeof decoded === 'string') {
        try {
          decoded = JSON.parse(decoded);
        } catch {
          /* data that is not JSON stays a string */
        }
      }
      this.frames.push({ ...parsed, data: decoded, raw });
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
  }

  static async connect(url: string, options: { origin?: string; autoPong?: boolean } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { ...(options.origin && { origin: options.origin }), autoPong: options.autoPong ?? true });
    const client = new RawClient(ws);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      }),
      `raw socket to ${url}`,
      10_000,
    );
    return client;
  }

  /** Connects and waits for pusher:connection_established; returns the client and socket id. */
  static async established(url: string): Promise<{ client: RawClient; socketId: string }> {
    const client = await RawClient.connect(url);
    const frame = await client.next('pusher:connection_established');
    return { client, socketId: frame.data.socket_id as string };
  }

  send(message: object | string | Buffer, binary = false): void {
    const payload = typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
    this.ws.send(payload, { binary });
  }

  subscribe(channel: string, auth?: string, channelData?: string): void {
    this.send({ event: 'pusher:subscribe', data: { channel, ...(auth !== undefined && { auth }), ...(channelData !== undefined && { channel_data: channelData }) } });
  }

  next(match: string | ((f: RawFrame) => boolean), timeoutMs = 10_000): Promise<RawFrame> {
    const test = typeof match === 'string' ? (f: RawFrame) => f.event === match : match;
    const what = typeof match === 'string' ? match : 'a matching frame';
    return within(
      new Promise<RawFrame>((resolve) => {
        const look = () => {
          const found = this.frames.find((f) => !this.taken.has(f) && test(f));
          if (!found) return;
          this.taken.add(found);
          this.waiters.delete(look);
          resolve(found);
        };
        this.waiters.add(look);
        look();
      }),
      `${what} on a raw socket`,
      timeoutMs,
    );
  }

  /** Frames matching, received so far (taken or not). */
  all(event: string): RawFrame[] {
    return this.frames.filter((f) => f.event === event);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.terminate();
  }
}
