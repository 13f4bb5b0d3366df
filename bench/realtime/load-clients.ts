import { connect, type Socket } from 'node:net';
import { acceptFor, FrameReader, maskedFrame, newKey, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, upgradeRequest } from './ws-wire.js';

/**
 * Many Pusher clients on raw TCP sockets, light enough that one process holds 10,000+ of them
 * beside a server on a 2-core machine: no `ws`, no per-message JSON. A client frame is
 * classified by its first bytes (`{"event":"pusher…` is protocol, anything else a delivery);
 * only protocol frames are parsed (connection_established -> subscribe, ping -> pong), and
 * only every `sampleEvery`-th client reads the publish time out of a delivery for latency.
 */

/** Which channels client i subscribes to. */
export type ChannelPlan =
  /** All clients on one channel. */
  | { kind: 'one'; channel: string }
  /** Client i on `${prefix}${i}${suffix}`, plus (if given) shared channel `${shared.prefix}${i % count}${shared.suffix}`. */
  | { kind: 'own'; prefix: string; suffix: string; shared?: { count: number; prefix: string; suffix: string } }
  /** Client i on channels[i]. */
  | { kind: 'listed'; channels: string[] };

export interface ConnectOptions {
  port: number;
  /** e.g. /app/{key}?protocol=7&client=js&version=8.6.0&flash=false */
  path: string;
  count: number;
  plan: ChannelPlan;
  /** Source addresses 127.0.0.<firstAddress + floor(i / perAddress)>: ephemeral ports are per address. */
  firstAddress: number;
  perAddress: number;
  /** Every n-th client measures latency (0 = none). */
  sampleEvery: number;
  /** Keep every delivery's text with its client and receipt time (end-to-end run; low rates only). */
  recordReceipts: boolean;
  /** Handshakes in flight at once. */
  concurrency: number;
  timeoutMs: number;
}

export interface ConnectResult {
  ready: number;
  failed: number;
  seconds: number;
  errors: Record<string, number>;
}

export interface LoadSnapshot {
  open: number;
  delivered: number;
  bytes: number;
  protocolFrames: number;
  pingsAnswered: number;
  /** Clients that went away after they were subscribed, by close code (or 'reset'). */
  lost: Record<string, number>;
  errors: Record<string, number>;
}

/** [client index, receipt time (epoch ms), frame text] */
export type Receipt = [number, number, string];

interface Client {
  readonly index: number;
  readonly socket: Socket;
  readonly key: string;
  readonly channels: string[];
  readonly sampled: boolean;
  state: 'handshake' | 'open' | 'gone';
  head: string;
  waitingFor: number;
  ready: boolean;
  closeCode: number | undefined;
}

const T_MARK = Buffer.from('t\\":'); // data is {"t":<epoch ms>,…} JSON-encoded inside the frame
const nowMs = () => performance.timeOrigin + performance.now();
const PONG = JSON.stringify({ event: 'pusher:pong', data: {} });

function channelsOf(plan: ChannelPlan, i: number): string[] {
  switch (plan.kind) {
    case 'one':
      return [plan.channel];
    case 'own':
      return plan.shared
        ? [`${plan.prefix}${i}${plan.suffix}`, `${plan.shared.prefix}${i % plan.shared.count}${plan.shared.suffix}`]
        : [`${plan.prefix}${i}${plan.suffix}`];
    case 'listed':
      return [plan.channels[i] ?? `missing-${i}`];
  }
}

export class LoadClients {
  private readonly clients: Client[] = [];
  private delivered = 0;
  private bytes = 0;
  private protocolFrames = 0;
  private pingsAnswered = 0;
  private readonly lost: Record<string, number> = {};
  private readonly errors: Record<string, number> = {};
  private latencies: number[] = [];
  private receipts: Receipt[] = [];
  private recordReceipts = false;

  connect(o: ConnectOptions): Promise<ConnectResult> {
    this.recordReceipts = o.recordReceipts;
    const started = performance.now();
    const errors: Record<string, number> = {};
    let next = 0;
    let inFlight = 0;
    let ready = 0;
    let failed = 0;
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        resolve({ ready, failed, seconds: (performance.now() - started) / 1000, errors });
      };
      const timer = setTimeout(() => {
        failed += o.count - ready - failed;
        errors['timed out'] = (errors['timed out'] ?? 0) + (o.count - next) + inFlight;
        next = o.count;
        finish();
      }, o.timeoutMs);
      const settled = (ok: boolean, why?: string) => {
        inFlight -= 1;
        if (ok) ready += 1;
        else {
          failed += 1;
          errors[why ?? 'failed'] = (errors[why ?? 'failed'] ?? 0) + 1;
        }
        if (ready + failed === o.count) finish();
        else launch();
      };
      const launch = () => {
        while (next < o.count && inFlight < o.concurrency) {
          inFlight += 1;
          this.open(o, next++, settled);
        }
      };
      if (o.count === 0) finish();
      else launch();
    });
  }

  snapshot(): LoadSnapshot {
    return {
      open: this.clients.filter((c) => c.state === 'open').length,
      delivered: this.delivered,
      bytes: this.bytes,
      protocolFrames: this.protocolFrames,
      pingsAnswered: this.pingsAnswered,
      lost: { ...this.lost },
      errors: { ...this.errors },
    };
  }

  /** Latency samples (ms, publish to receipt) since the last call. */
  takeLatencies(): number[] {
    const out = this.latencies;
    this.latencies = [];
    return out;
  }

  takeReceipts(): Receipt[] {
    const out = this.receipts;
    this.receipts = [];
    return out;
  }

  closeAll(): void {
    for (const c of this.clients) {
      c.state = 'gone';
      c.socket.destroy();
    }
    this.clients.length = 0;
  }

  private open(o: ConnectOptions, index: number, settled: (ok: boolean, why?: string) => void): void {
    const address = `127.0.0.${o.firstAddress + Math.floor(index / o.perAddress)}`;
    const socket = connect({ host: '127.0.0.1', port: o.port, localAddress: address, noDelay: true });
    const client: Client = {
      index,
      socket,
      key: newKey(),
      channels: channelsOf(o.plan, index),
      sampled: o.sampleEvery > 0 && index % o.sampleEvery === 0,
      state: 'handshake',
      head: '',
      waitingFor: 0,
      ready: false,
      closeCode: undefined,
    };
    this.clients.push(client);
    let done = false;
    const settle = (ok: boolean, why?: string) => {
      if (done) return;
      done = true;
      client.ready = ok;
      settled(ok, why);
    };
    const reader = new FrameReader((op, buf, start, end) => this.onFrame(client, op, buf, start, end, settle));
    socket.on('connect', () => socket.write(upgradeRequest('127.0.0.1', o.path, client.key)));
    socket.on('data', (chunk: Buffer) => {
      if (client.state === 'open') {
        this.bytes += chunk.length;
        reader.push(chunk);
        return;
      }
      const rest = this.handshake(client, chunk);
      if (rest === 'failed') settle(false, `upgrade refused: ${client.head.split('\r\n')[0] ?? ''}`);
      else if (rest && rest.length > 0) reader.push(rest);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code ?? e.message;
      if (!done) settle(false, why);
      else this.errors[why] = (this.errors[why] ?? 0) + 1;
    });
    socket.on('close', () => {
      if (!done) settle(false, client.closeCode ? `closed ${client.closeCode}` : 'closed during handshake');
      else if (client.state !== 'gone' && client.ready) {
        const why = client.closeCode === undefined ? 'reset' : String(client.closeCode);
        this.lost[why] = (this.lost[why] ?? 0) + 1;
      }
      client.state = 'gone';
    });
  }

  /** Returns the bytes after the response head once it is complete, or 'failed'. */
  private handshake(c: Client, chunk: Buffer): Buffer | 'failed' | undefined {
    const before = c.head.length;
    c.head += chunk.toString('latin1');
    const end = c.head.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = c.head.slice(0, end);
    if (!head.startsWith('HTTP/1.1 101') || !head.toLowerCase().includes(`sec-websocket-accept: ${acceptFor(c.key).toLowerCase()}`)) {
      c.socket.destroy();
      return 'failed';
    }
    c.state = 'open';
    c.head = head;
    return chunk.subarray(end + 4 - before);
  }

  private onFrame(c: Client, op: number, buf: Buffer, start: number, end: number, settle: (ok: boolean, why?: string) => void): void {
    if (op === OP_TEXT) {
      // {"event":"pusher:… / {"event":"pusher_internal:… are protocol; channel events are deliveries.
      if (buf[start + 10] !== 0x70 || buf[start + 11] !== 0x75 || buf[start + 12] !== 0x73) {
        this.delivered += 1;
        if (c.sampled) this.sample(buf, start, end);
        if (this.recordReceipts) this.receipts.push([c.index, nowMs(), buf.toString('utf8', start, end)]);
        return;
      }
      this.protocolFrame(c, buf.toString('utf8', start, end), settle);
    } else if (op === OP_PING) {
      c.socket.write(maskedFrame(OP_PONG, Buffer.from(buf.subarray(start, end))));
    } else if (op === OP_CLOSE) {
      c.closeCode = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      c.socket.end();
    }
  }

  private sample(buf: Buffer, start: number, end: number): void {
    const at = buf.indexOf(T_MARK, start);
    if (at < 0 || at >= end) return;
    let i = at + T_MARK.length;
    let value = 0;
    let scale = 0;
    for (; i < end; i++) {
      const ch = buf[i] as number;
      if (ch === 0x2e) scale = 1;
      else if (ch >= 0x30 && ch <= 0x39) {
        value = value * 10 + (ch - 0x30);
        if (scale) scale *= 10;
      } else break;
    }
    this.latencies.push(nowMs() - (scale ? value / scale : value));
  }

  private protocolFrame(c: Client, text: string, settle: (ok: boolean, why?: string) => void): void {
    this.protocolFrames += 1;
    let message: { event?: string; data?: unknown; channel?: string };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      this.errors['bad frame'] = (this.errors['bad frame'] ?? 0) + 1;
      return;
    }
    switch (message.event) {
      case 'pusher:connection_established':
        c.waitingFor = c.channels.length;
        c.socket.cork();
        for (const channel of c.channels) {
          c.socket.write(maskedFrame(OP_TEXT, JSON.stringify({ event: 'pusher:subscribe', data: { auth: '', channel } })));
        }
        c.socket.uncork();
        return;
      case 'pusher_internal:subscription_succeeded':
        c.waitingFor -= 1;
        if (c.waitingFor === 0) settle(true);
        return;
      case 'pusher:ping':
        this.pingsAnswered += 1;
        c.socket.write(maskedFrame(OP_TEXT, PONG));
        return;
      case 'pusher:error':
      case 'pusher:subscription_error': {
        const why = `${message.event} ${JSON.stringify(message.data)}`.slice(0, 160);
        this.errors[why] = (this.errors[why] ?? 0) + 1;
        if (message.event === 'pusher:subscription_error') settle(false, why);
        return;
      }
      default:
    }
  }
}
