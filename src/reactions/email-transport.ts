import nodemailer, { type Transporter } from 'nodemailer';
import type { ClaimedDelivery } from './delivery-outbox.js';
import { PermanentDeliveryFailure, abortion, type DeliveryTransport } from './delivery-transport.js';
import { emailPayload } from './notification-emails.js';

export interface SmtpTransportOptions {
  /** smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS); nodemailer query options allowed. */
  url: string;
  from: string;
  /** Socket-level timeouts, so a stalled server frees its connection even after an abort. */
  timeoutMs: number;
}

/** Sends email through an SMTP server with nodemailer, one connection per message. */
export class SmtpEmailTransport implements DeliveryTransport {
  private readonly transporter: Transporter;

  constructor(private readonly o: SmtpTransportOptions) {
    this.transporter = nodemailer.createTransport({
      url: o.url,
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
    });
  }

  async send(d: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const parsed = emailPayload.safeParse(d.payload);
    if (!parsed.success) throw new PermanentDeliveryFailure(`malformed email payload: ${parsed.error.issues[0]?.message}`);
    const mail = parsed.data;
    // nodemailer takes no AbortSignal: stop waiting on abort; its socket timeouts end the rest.
    await Promise.race([
      this.transporter.sendMail({ from: this.o.from, to: mail.to, subject: mail.subject, text: mail.text }),
      abortion(signal),
    ]);
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
