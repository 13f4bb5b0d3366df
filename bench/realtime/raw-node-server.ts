import { createServer, type Socket } from 'node:net';
import { acceptFor, FrameReader, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, serverFrame } from './ws-wire.js';

/**
 * The simplest Node server the load generator accepts: a hand-written upgrade, a canned
 * pusher:connection_established and subscription_succeeded, and a publish that frames the
 * message once and calls socket.write(frame) on every subscribed socket — one write per
 * socket per message, no cork, no channels, no bookkeeping. The floor for a Node server.
 */
export interface RawNodeServer {
  port: number;
  publish(channel: string, event: string, data: string): void;
  subscribed(): number;
  stop(): Promise<void>;
}

export async function startRawNodeServer(): Promise<RawNodeServer> {
  const subscribed = new Set<Socket>();
  const established = serverFrame(OP_TEXT, JSON.stringify({ event: 'pusher:connection_established', data: JSON.stringify({ socket_id: '1.1', activity_timeout: 120 }) }));
  const server = createServer({ noDelay: true }, (socket) => {
    let head = '';
    let open = false;
    const reader = new FrameReader((op, buf, start, end) => {
      if (op === OP_TEXT) {
        const message = JSON.parse(buf.toString('utf8', start, end)) as { event?: string; data?: { channel?: string } };
        if (message.event === 'pusher:subscribe') {
          const channel = message.data?.channel ?? '';
          socket.write(serverFrame(OP_TEXT, JSON.stringify({ event: 'pusher_internal:subscription_succeeded', channel, data: '{}' })));
          subscribed.add(socket);
        } else if (message.event === 'pusher:ping') {
          socket.write(serverFrame(OP_TEXT, JSON.stringify({ event: 'pusher:pong', data: '{}' })));
        }
      } else if (op === OP_PING) socket.write(serverFrame(OP_PONG, Buffer.from(buf.subarray(start, end))));
      else if (op === OP_CLOSE) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      if (open) return reader.push(chunk);
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
      socket.write(established);
      open = true;
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length) reader.push(rest);
    });
    socket.on('error', () => {});
    socket.on('close', () => subscribed.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    publish(channel, event, data) {
      const frame = serverFrame(OP_TEXT, JSON.stringify({ event, channel, data }));
      for (const socket of subscribed) socket.write(frame);
    },
    subscribed: () => subscribed.size,
    stop: async () => {
      for (const socket of subscribed) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
