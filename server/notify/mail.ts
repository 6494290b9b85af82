// Outgoing mail (the weekly report to managers, alerts to team leads) through the centre's SMTP
// server, with nodemailer: a well-kept client that does STARTTLS, AUTH, MIME and attachments, so
// Kept writes none of that by hand. One transport per process, made from configuration.
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface MailAttachment {
  filename: string;
  content: string | Buffer;
  contentType?: string;
}

export interface MailMessage {
  to: readonly string[];
  subject: string;
  /** Plain text: every message has one, for mail clients that show no HTML. */
  text: string;
  html?: string;
  attachments?: readonly MailAttachment[];
}

export interface Mailer {
  /** Sends one message; resolves with the server's message id once the SMTP server accepted it. */
  send(message: MailMessage): Promise<{ messageId: string }>;
  close(): void;
}

/** The SMTP settings of Config (KEPT_SMTP_*). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  password: string;
  from: string;
}

/** Kept's mailer, or null when no SMTP host is configured (mail is then not sent, and callers say so). */
export function createMailer(config: Pick<Config, 'smtp'>): Mailer | null {
  const s = config.smtp;
  if (s.host === '') return null;
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    ...(s.user !== '' ? { auth: { user: s.user, pass: s.password } } : {}),
    // Never log the conversation: it carries credentials and recipients.
    logger: false,
    debug: false,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  return {
    async send(m) {
      const info = await transport.sendMail({
        from: s.from,
        to: [...m.to],
        subject: m.subject,
        text: m.text,
        ...(m.html !== undefined ? { html: m.html } : {}),
        ...(m.attachments !== undefined ? { attachments: m.attachments.map((a) => ({ ...a })) } : {}),
      });
      return { messageId: String(info.messageId) };
    },
    close() {
      transport.close();
    },
  };
}
