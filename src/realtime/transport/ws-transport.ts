import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { PusherApp } from '../contracts.js';
import { frames } from '../protocol/frames.js';
import type { PusherServer } from '../protocol/pusher-server.js';
import { InternalError, ReconnectRequestedError, WireError } from '../protocol/wire-errors.js';
import { TextFrames, TurnFlusher } from './text-frames.js';
import { closeReason, WsConnection } from './ws-connection.js';

export interface WsTransportOptions {
  /** Where `/app/{key}` lives, e.g. '' (default) or '/realtime'. */
  pathPrefix?: string;
  /** How long a closing connection may take to finish the close handshake. */
  closeGraceMs?: number;
  /**
   * The hard frame limit as a multiple of the app's maxMessageBytes. Frames between the
   * app's limit and this get pusher:error 4300 and the connection stays; larger ones are cut
   * by `ws` with close code 1009 before they are buffered.
   */
  payloadHeadroom?: number;
  onError?: (error: unknown) => void;
}

/**
 * The only code that touches sockets: `ws` (with bufferutil, no permessage-deflate) on the
 * 'upgrade' event of an http.Server — an existing one (`attach`) or its own (`listen`).
 * It asks the PusherServer whether to admit each upgrade; a refusal is still answered over
 * the WebSocket (pusher:error, then close with the code) because that is what clients read.
 */
export class WsTransport {
  private readonly wssByLimit = new Map<number, WebSocketServer>();
  private readonly sockets = new Set<WebSocket>();
  private readonly attached = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  private owned: Server | undefined;
  private readonly pathPrefix: string;
  private readonly closeGraceMs: number;
  private readonly payloadHeadroom: number;
  private readonly onError: (error: unknown) => void;
  private readonly textFrames = new TextFrames();
  private readonly flusher = new TurnFlusher();

  constructor(
    private readonly server: PusherServer,
    options: WsTransportOptions = {},
  ) {
    this.pathPrefix = (options.pathPrefix ?? '').replace(/\/$/, '');
    this.closeGraceMs = options.closeGraceMs ?? 5_000;
    this.payloadHeadroom = options.payloadHeadroom ?? 4;
    this.onError = options.onError ?? (() => {});
  }

  /** Serves WebSocket upgrades of an existing http.Server (e.g. Fastify's `app.server`). */
  attach(httpServer: Server): void {
    if (this.attached.has(httpServer)) return;
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(httpServer, req, socket, head);
    this.attached.set(httpServer, listener);
    httpServer.on('upgrade', listener);
  }

  /** Standalone: its own http.Server on `port` (0 = any free port). */
  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    const own = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('Connect with a WebSocket to /app/{key}?protocol=7\n');
    });
    this.owned = own;
    this.attach(own);
    await new Promise<void>((resolve, reject) => {
      own.once('error', reject);
      own.listen(port, host, () => resolve());
    });
    return own.address() as AddressInfo;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting, closes every connection with 4200 (clients reconnect, to another node
   * if there is one), waits up to `timeoutMs` for them to go, then cuts the rest.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    for (const [httpServer, listener] of this.attached) httpServer.off('upgrade', listener);
    this.attached.clear();
    this.server.disconnectAll(new ReconnectRequestedError('The server is shutting down.'));
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await sleep(10);
    for (const ws of this.sockets) ws.terminate();
    for (const wss of this.wssByLimit.values()) wss.close();
    this.wssByLimit.clear();
    if (this.owned) {
      const own = this.owned;
      this.owned = undefined;
      own.closeAllConnections();
      await new Promise<void>((resolve) => own.close(() => resolve()));
    }
  }

  private onUpgrade(httpServer: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    if (!this.owns(url, httpServer)) return;
    let app: PusherApp | undefined;
    let refusal: WireError | undefined;
    try {
      app = this.server.admit({ url: url.slice(this.pathPrefix.length), origin: req.headers.origin });
    } catch (error) {
      refusal = error instanceof WireError ? error : new InternalError();
      if (!(error instanceof WireError)) this.onError(error);
    }
    this.wssFor(app).handleUpgrade(req, socket, head, (ws) => {
      if (app && !refusal) this.accept(ws, socket, app);
      else this.refuse(ws, refusal ?? new InternalError());
    });
  }

  /**
   * Paths under `{prefix}/app` are ours. Other paths are left to other 'upgrade' listeners
   * of the same server when there are any; otherwise they get 4005.
   */
  private owns(url: string, httpServer: Server): boolean {
    if (url.startsWith(`${this.pathPrefix}/app`)) return true;
    return httpServer.listenerCount('upgrade') <= 1;
  }

  private accept(ws: WebSocket, socket: Duplex, app: PusherApp): void {
    const conn = new WsConnection(this.server.newSocketId(), app, ws, socket, this.closeGraceMs, this.textFrames, this.flusher);
    this.sockets.add(ws);
    ws.on('message', (data, isBinary) => this.server.message(conn, toBuffer(data), isBinary));
    ws.on('ping', () => this.server.pong(conn));
    ws.on('pong', () => this.server.pong(conn));
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.server.counters.drop('PayloadTooLarge');
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.server.close(conn);
    });
    this.server.open(conn);
  }

  private refuse(ws: WebSocket, error: WireError): void {
    this.server.counters.drop(error.kind);
    ws.on('error', () => {});
    ws.send(frames.error(error), { binary: false });
    ws.close(error.code, closeReason(error.message));
    const cut = setTimeout(() => ws.terminate(), this.closeGraceMs);
    cut.unref();
    ws.once('close', () => clearTimeout(cut));
  }

  private wssFor(app: PusherApp | undefined): WebSocketServer {
    const maxPayload = Math.max(1024, (app?.maxMessageBytes ?? 1024) * this.payloadHeadroom);
    let wss = this.wssByLimit.get(maxPayload);
    if (!wss) {
      wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
      this.wssByLimit.set(maxPayload, wss);
    }
    return wss;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
