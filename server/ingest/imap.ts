// The shared mailbox, read where it lives (issue 12): each configured folder (INBOX for customers'
// mail, Sent for the centre's replies, so a reply sent from any mail client counts) is followed over
// IMAP with imapflow: IDLE where the server has it (imapflow keeps the connection idling and reports
// new mail), polling besides (and instead, where it has not). Where each folder has been read to
// (UIDVALIDITY and the last UID) is kept in mail_cursors, so nothing is read twice or missed across
// restarts. Kept never deletes, moves or alters mail: folders are opened read-only unless
// KEPT_IMAP_MARK_SEEN asks for the \Seen flag. Credentials and addresses are never logged.
import { ImapFlow } from 'imapflow';
import type { Readable } from 'node:stream';
import type { Config, ImapConfig } from '../config.js';
import { KeptError } from '../errors.js';
import { ingestEmail } from './email.js';
import type { IngestService } from './service.js';

/** What the reader logs through (the app's pino logger); never given an address or a credential. */
export interface MailLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

/** Per folder: what has happened since the start, for the detailed /api/v1/health and the tests. */
export interface FolderState {
  folder: string;
  connected: boolean;
  /** The server has IDLE: new mail is reported as it arrives (else it is polled for). */
  idle: boolean;
  /** Messages taken since the start, and each outcome's count. */
  read: number;
  outcomes: Record<string, number>;
  /** When the last message was taken (ISO), and when the folder was last looked through to its end. */
  lastReadAt?: string;
  lastCheckedAt?: string;
  /** The last connection problem (a code or the server's answer, never a credential) and when; cleared on the next connection. */
  lastError?: string;
  lastErrorAt?: string;
}

const RETRY_MIN_MS = 2000;
/** IDLE starts this long after the last command (imapflow's default, 15 s, would leave new mail unseen that long). */
const AUTO_IDLE_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** OAuth2 access tokens for XOAUTH2: fetched from the token endpoint, renewed a minute before they expire. */
export class OAuthTokens {
  private token: { value: string; until: number } | undefined;
  private pending: Promise<string> | undefined;
  constructor(private readonly o: ImapConfig['oauth']) {}

  /** A valid token; the folders' connections asking at once share one request. */
  get(now = Date.now()): Promise<string> {
    if (this.token !== undefined && this.token.until > now) return Promise.resolve(this.token.value);
    this.pending ??= this.fetch(now).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetch(now: number): Promise<string> {
    const form = new URLSearchParams({ client_id: this.o.clientId, client_secret: this.o.clientSecret, scope: this.o.scope });
    if (this.o.refreshToken !== '') {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', this.o.refreshToken);
    } else form.set('grant_type', 'client_credentials');
    const r = await fetch(this.o.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form, signal: AbortSignal.timeout(20_000) });
    const body = (await r.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    // The endpoint's error code only: its description may quote the request.
    if (!r.ok || typeof body.access_token !== 'string') throw new Error(`the OAuth2 token endpoint answered ${r.status}${typeof body.error === 'string' ? ` (${body.error.slice(0, 60)})` : ''}`);
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600) || 3600;
    this.token = { value: body.access_token, until: now + Math.max(60, seconds - 60) * 1000 };
    return this.token.value;
  }
}

/** Follows every configured folder; start() once the writer is ready, stop() on close. */
export class MailboxReader {
  private readonly folders: FolderReader[];
  private readonly tokens: OAuthTokens | undefined;

  constructor(service: IngestService, config: Config, log: MailLog) {
    const imap = config.imap;
    this.tokens = imap.oauth.tokenUrl !== '' ? new OAuthTokens(imap.oauth) : undefined;
    this.folders = imap.folders.map((folder) => new FolderReader(service, config, folder, log, this.tokens));
  }

  start(): void {
    for (const f of this.folders) f.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.folders.map((f) => f.stop()));
  }

  get state(): FolderState[] {
    return this.folders.map((f) => f.state);
  }
}

/** One folder on its own connection (IDLE watches the selected folder only). */
class FolderReader {
  readonly state: FolderState;
  private client: ImapFlow | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private readonly key: string;

  constructor(
    private readonly service: IngestService,
    private readonly config: Config,
    private readonly folder: string,
    private readonly log: MailLog,
    private readonly tokens: OAuthTokens | undefined,
  ) {
    this.state = { folder, connected: false, idle: false, read: 0, outcomes: {} };
    // The cursor is the server's and the folder's: another server or user starts afresh.
    this.key = `${config.imap.user}@${config.imap.host}:${config.imap.port}/${folder}`;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
    const c = this.client;
    this.client = undefined;
    if (c !== undefined) await c.logout().catch(() => c.close());
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const imap = this.config.imap;
    try {
      const auth = this.tokens !== undefined ? { user: imap.user, accessToken: await this.tokens.get() } : { user: imap.user, pass: imap.password };
      const client = new ImapFlow({ host: imap.host, port: imap.port, secure: imap.secure, auth, logger: false, emitLogs: false, autoIdleDelay: AUTO_IDLE_MS });
      client.on('error', (e: Error) => this.failed(e));
      client.on('close', () => {
        this.state.connected = false;
        if (this.client === client) this.client = undefined;
        if (!this.stopped) this.retry();
      });
      // New mail in the selected folder (IDLE's EXISTS, or a NOOP's when the server has no IDLE).
      client.on('exists', () => this.readNew());
      await client.connect();
      if (this.stopped) {
        await client.logout().catch(() => {});
        return;
      }
      await client.mailboxOpen(this.folder, { readOnly: !imap.markSeen });
      this.client = client;
      this.state.connected = true;
      this.state.idle = client.capabilities.has('IDLE');
      this.state.lastError = undefined;
      this.state.lastErrorAt = undefined;
      this.retryMs = RETRY_MIN_MS;
      this.log.info({ folder: this.folder, idle: this.state.idle }, 'mailbox: following the folder');
      this.readNew();
      this.poll();
    } catch (e) {
      this.failed(e as Error);
      this.retry();
    }
  }

  private failed(e: Error): void {
    // imapflow's messages name the server's answer, never the password; the code is enough.
    const detail = (e as { authenticationFailed?: boolean }).authenticationFailed ? 'authentication failed' : ((e as { code?: string }).code ?? e.message).slice(0, 200);
    this.state.lastError = detail;
    this.state.lastErrorAt = new Date().toISOString();
    this.log.warn({ folder: this.folder, error: detail }, 'mailbox: connection problem');
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private poll(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.readNew();
      this.poll();
    }, this.config.imap.pollMs);
    this.timer.unref();
  }

  /** Reads what is new; a call while reading asks for one more pass after it. */
  private readNew(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.readPass()
      .catch((e: Error) => this.failed(e))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.readNew();
        }
      });
  }

  private async readPass(): Promise<void> {
    const client = this.client;
    if (client === undefined || this.stopped) return;
    const mailbox = client.mailbox;
    if (mailbox === false) return;
    const uidValidity = String(mailbox.uidValidity);
    const cursor = await this.service.mail.cursor(this.key);
    if (this.stopped || this.client !== client) return; // stopped, or the connection replaced, while the position was read
    let lastUid = cursor !== undefined && cursor.uidValidity === uidValidity ? cursor.lastUid : 0;
    if (cursor !== undefined && cursor.uidValidity !== uidValidity) {
      this.log.warn({ folder: this.folder }, 'mailbox: the folder was renumbered (new UIDVALIDITY): read again from its start; Message-IDs keep what was read from being stored twice');
    }
    // The UIDs and sizes first (a fetch holds the connection), then each message on its own.
    const pending: Array<{ uid: number; size: number }> = [];
    for await (const m of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
      if (m.uid > lastUid) pending.push({ uid: m.uid, size: m.size ?? 0 });
    }
    pending.sort((a, b) => a.uid - b.uid);
    for (const m of pending) {
      if (this.stopped || this.client !== client) return;
      const outcome = await this.take(client, m.uid, m.size);
      if (outcome === 'retry') return; // Kept could not store it now: the next pass tries again
      this.state.read++;
      this.state.outcomes[outcome] = (this.state.outcomes[outcome] ?? 0) + 1;
      this.state.lastReadAt = new Date().toISOString();
      lastUid = m.uid;
      await this.service.saveMailCursor(this.key, uidValidity, lastUid);
      if (this.config.imap.markSeen) await client.messageFlagsAdd(String(m.uid), ['\\Seen'], { uid: true }).catch(() => {});
    }
    if (!this.stopped && this.client === client) this.state.lastCheckedAt = new Date().toISOString();
  }

  /** One message, streamed from the server to the parser. Its outcome in a word (logged and counted). */
  private async take(client: ImapFlow, uid: number, size: number): Promise<string> {
    if (size > this.config.emailBodyLimit) {
      this.log.warn({ folder: this.folder, uid, size }, 'mailbox: a message over KEPT_EMAIL_BODY_LIMIT was left unread (it stays in the mailbox)');
      return 'too-large';
    }
    try {
      const { content } = await client.download(String(uid), undefined, { uid: true });
      const r = await ingestEmail(this.service.as(`imap:${this.folder}`), this.config, content as Readable);
      const outcome = r.kind === 'automatic' ? `automatic:${r.automatic}` : r.kind;
      this.log.info({ folder: this.folder, uid, outcome, ...('contact' in r ? { contactId: r.contact.id } : {}), ...(r.kind === 'automatic' && r.contactId !== undefined ? { contactId: r.contactId } : {}) }, 'mailbox: message read');
      return outcome;
    } catch (e) {
      // A message Kept refuses (a sent message answering nothing stored, mail to no known address,
      // a conflict) is skipped, with its field and code only: the message text may quote addresses.
      if (e instanceof KeptError && e.status < 500) {
        const { field, code } = e;
        this.log.info({ folder: this.folder, uid, outcome: 'refused', code, ...(field !== undefined ? { field } : {}) }, 'mailbox: message not recorded');
        return `refused:${code}`;
      }
      this.failed(e as Error);
      return 'retry';
    }
  }
}
