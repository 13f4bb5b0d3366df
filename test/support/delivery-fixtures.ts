import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * Real receivers for the delivery tests: an SMTP server (smtp-server) and webhook HTTP
 * receivers (node:http on 127.0.0.1, port 0). Nothing here is a mock of our code: the
 * receivers verify what arrives the way a merchant's integration would.
 */

// ── email ────────────────────────────────────────────────────────────────────────────────

export interface ReceivedMail {
  from: string | null;
  to: string[];
  subject: string;
  text: string;
}

export interface SmtpSink {
  url: string;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** An SMTP server on 127.0.0.1 without TLS or auth that keeps every message it accepts, decoded. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { subject, text } = parseMessage(Buffer.concat(chunks).toString('utf8'));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          to: session.envelope.rcptTo.map((a) => a.address),
          subject,
          text,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Just enough MIME for a single-part text message: unfolded headers, encoded words, QP or base64 body. */
function parseMessage(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1] ?? '';
  const subject = header('Subject').replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQ(data.replace(/_/g, ' ')),
  );
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  const text =
    encoding === 'quoted-printable'
      ? decodeQ(body.replace(/=\r\n/g, ''))
      : encoding === 'base64'
        ? Buffer.from(body, 'base64').toString('utf8')
        : body;
  return { subject: subject.trim(), text: text.replace(/\r\n/g, '\n').trimEnd() };
}

const decodeQ = (s: string) =>
  Buffer.from(s.replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');

// ── webhooks ─────────────────────────────────────────────────────────────────────────────

export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  body: string;
  /** The StoreFlow-Signature checked out against the secret and the raw body. */
  signatureValid: boolean;
}

/** What the receiver does with its n-th call (0-based): answer 2xx, answer 500, or never answer. */
export type Behaviour = (n: number) => 'ok' | 'fail' | 'hang';

export interface WebhookReceiver {
  url: string;
  calls: ReceivedCall[];
  /** Calls being held open right now ('hang'), and the most ever held at once. */
  readonly open: number;
  readonly maxOpen: number;
  /** Answers every held call with 200. */
  releaseAll(): void;
  /** The secret to verify with (known once the endpoint has been created). */
  secret: string | null;
  close(): Promise<void>;
}

/**
 * A merchant's receiver, as the docs tell merchants to write one: it recomputes
 * HMAC-SHA256(secret, "<t>.<raw body>"), compares in constant time, refuses a timestamp
 * more than five minutes off, and answers 400 to a bad signature.
 */
export async function startWebhookReceiver(behave: Behaviour = () => 'ok'): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  const held = new Set<ServerResponse>();
  let maxOpen = 0;
  const receiver: WebhookReceiver = {
    url: '',
    calls,
    secret: null,
    get open() {
      return held.size;
    },
    get maxOpen() {
      return maxOpen;
    },
    releaseAll() {
      for (const res of held) res.writeHead(200).end('ok');
      held.clear();
    },
    close: async () => {
      receiver.releaseAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signatureValid = verifySignature(receiver.secret, String(req.headers['storeflow-signature'] ?? ''), body);
      const n = calls.length;
      calls.push({ headers: req.headers, body, signatureValid });
      if (!signatureValid) return void res.writeHead(400).end('bad signature');
      const what = behave(n);
      if (what === 'ok') return void res.writeHead(204).end();
      if (what === 'fail') return void res.writeHead(500).end('not today');
      held.add(res);
      maxOpen = Math.max(maxOpen, held.size);
      res.on('close', () => held.delete(res));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/storeflow`;
  return receiver;
}

export function verifySignature(secret: string | null, header: string, rawBody: string, nowMs = Date.now()): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!secret || !Number.isInteger(t) || !parts.v1 || Math.abs(nowMs / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
