// Configuration: every environment variable checked at boot against one schema (env-schema), so a
// typo in a value stops Kept with the variable's name instead of answering clients 400 later.
import { Ajv } from 'ajv';
import envSchema from 'env-schema';
import cron from 'node-cron';
import { availableParallelism } from 'node:os';
import { Type, type Static } from 'typebox';
import { PACKS } from './domain/standards.js';
import { MappingConfigError, parseMappings } from './ingest/form-presets.js';
import { parseQueues, QueueConfigError, QueueSet, type KeptQueue } from './ingest/queues.js';

// A pack that applies beside the centre's (Awaab's Law) is not a choice for KEPT_PACK: it always applies.
const PACK_FAMILIES = [...new Set(PACKS.filter((p) => p.beside !== true).map((p) => p.family))];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const Whole = (def: number, description: string, minimum = 0) => Type.Integer({ minimum, default: def, description });
const Text = (def: string, description: string) => Type.String({ default: def, description });
/** A public message: empty for the default, else text with only the named {placeholders}. */
const Message = (description: string, placeholders: string) =>
  Type.String({ default: '', maxLength: 500, pattern: `^([^{}]|\\{(${placeholders})\\})*$`, description: `${description} Empty: the default wording.` });

/** Every variable Kept reads, with its default. The README's table and docs/security.md list the same. */
export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'The port to listen on.' }),
  HOST: Text('127.0.0.1', 'The address to listen on (0.0.0.0 for every interface).'),
  KEPT_DB: Text('./data/kept.db', 'The SQLite database file (when KEPT_DATABASE_URL is not set).'),
  KEPT_DATABASE_URL: Type.String({ default: '', maxLength: 2000, description: 'postgres://user:password@host:5432/db: run on PostgreSQL, as one of several instances (docs/scale-out.md). Unset: the SQLite file KEPT_DB.' }),
  KEPT_INSTANCE_ID: Type.String({ default: '', maxLength: 200, pattern: '^[A-Za-z0-9._:@-]*$', description: "On PostgreSQL: this instance's name in the timers' lease and the change feed (default host:pid)." }),
  KEPT_PG_POOL: Whole(10, 'On PostgreSQL: connections in the pool.', 1),
  KEPT_PACK: Type.Union(
    PACK_FAMILIES.map((f) => Type.Literal(f)),
    { default: 'livewest', description: 'The standards pack family.' },
  ),
  KEPT_LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((l) => Type.Literal(l)),
    { default: 'info', description: 'Log level.' },
  ),
  KEPT_PUBLIC_URL: Type.String({ default: '', pattern: '^(https?://[^\\s/?#]+/?)?$', description: 'The address people reach Kept at, e.g. https://kept.example.org (https turns on HSTS).' }),
  KEPT_TRUST_PROXY: Type.Boolean({ default: false, description: 'true behind a TLS-terminating proxy: take the client address from X-Forwarded-For.' }),
  KEPT_BODY_LIMIT: Whole(1_048_576, 'Largest request body, bytes (JSON and form routes).', 1024),
  KEPT_EMAIL_BODY_LIMIT: Whole(26_214_400, 'Largest raw email, bytes (mail with attachments).', 1024),
  KEPT_HEADERS_TIMEOUT_MS: Whole(15_000, 'Time allowed to receive the request headers.', 1000),
  KEPT_REQUEST_TIMEOUT_MS: Whole(60_000, 'Time allowed to receive the whole request, body included.', 1000),
  KEPT_KEEP_ALIVE_TIMEOUT_MS: Whole(72_000, 'How long an idle keep-alive connection is kept open.', 1000),
  KEPT_IDLE_TIMEOUT_MS: Whole(120_000, 'A connection silent this long is closed.', 1000),
  KEPT_WS_MAX_CLIENTS: Whole(2000, 'Live-board sockets open at once, in total.', 1),
  KEPT_WS_MAX_CLIENTS_PER_ADDRESS: Whole(50, 'Live-board sockets open at once from one address.', 1),
  KEPT_MAX_EVENTS_PER_CONTACT: Whole(1000, 'Events one contact may hold.', 10),
  KEPT_WRITE_TIMEOUT_MS: Whole(5000, 'Longest a write waits for a database lock held by another process before answering 503.', 100),
  KEPT_READER_THREADS: Whole(Math.min(2, availableParallelism()), 'Threads that answer reads, each with its own read-only connection (default: 2, or 1 on one core); 0: reads on the main thread.'),
  KEPT_FAILED_AUTH_PER_MINUTE: Whole(30, 'Failed credentials per address per minute before 429.', 1),
  KEPT_SESSION_IDLE_MINUTES: Whole(240, 'A session unused this long ends (minutes).', 1),
  KEPT_SESSION_MAX_HOURS: Whole(12, 'A session ends this long after sign-in, however busy (hours).', 1),
  KEPT_SIGNIN_LOCK_AFTER: Whole(5, 'Failed sign-ins in a row to one account before it is locked for a while.', 1),
  KEPT_SIGNIN_LOCK_MINUTES: Whole(15, 'How long a locked account (and a throttled email) waits before sign-in is tried again.', 1),
  KEPT_FORM_POSTS_PER_MINUTE: Whole(10, 'Posts to the public form per address per minute.', 1),
  KEPT_MAILBOX: Text('customer.services@example.org', 'The customer-services mailbox: mail to it is route customer-services.'),
  KEPT_ORG_DOMAINS: Text('example.org', "The organisation's mail domains, comma-separated."),
  KEPT_SOCIAL_VERIFY_TOKEN: Text('', 'The social webhook subscription token.'),
  KEPT_SOCIAL_APP_SECRET: Text('', 'The social app secret (checks X-Hub-Signature-256).'),
  KEPT_SOCIAL_PAGE_ID: Text('', "The organisation's own page id."),
  KEPT_WEB_ROOT: Text('./dist/web', 'Serve the built board from this folder.'),
  KEPT_BUSY_CALLS_WAITING: Whole(10, '"High volumes" from this many calls waiting…'),
  KEPT_BUSY_OLDEST_WAIT_SECONDS: Whole(240, '…or this long an oldest wait.'),
  KEPT_BOARD_LIST_LIMIT: Whole(500, 'Most urgent rows a board is sent.', 1),
  KEPT_BOARD_SERVICE_LEVEL_TARGET: Type.Integer({ minimum: 1, maximum: 100, default: 80, description: 'The phone service level aimed for, percent: the target line on the board\'s chart.' }),
  KEPT_BOARD_CALENDAR: Type.String({ default: 'customer-services', minLength: 1, maxLength: 100, description: "The calendar the board follows: its zone, its opening hours (open now, the intraday chart's span) and its name (the heading)." }),
  KEPT_PUBLIC_OPEN_MESSAGE: Message('What customers are told while open; {phoneTarget} and {replyTarget} are the pack\'s targets in words.', 'phoneTarget|replyTarget'),
  KEPT_PUBLIC_BUSY_MESSAGE: Message('What customers are told while busy; {phoneTarget}, {replyTarget}.', 'phoneTarget|replyTarget'),
  KEPT_SMTP_HOST: Text('', 'The SMTP server Kept sends mail through (reports, alerts); empty: no mail is sent.'),
  KEPT_SMTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 587, description: 'The SMTP port.' }),
  KEPT_SMTP_SECURE: Type.Boolean({ default: false, description: 'true: TLS from the start (port 465); false: STARTTLS when offered.' }),
  KEPT_SMTP_USER: Text('', 'The SMTP user name; empty: no authentication.'),
  KEPT_SMTP_PASSWORD: Text('', 'The SMTP password (never logged).'),
  KEPT_SMTP_FROM: Text('Kept <kept@example.org>', 'The From address of the mail Kept sends.'),
  KEPT_ALERT_CHECK_SECONDS: Whole(15, 'How often alert rules are judged against the live state, seconds (and a second after contacts change).', 1),
  KEPT_ALERT_WEBHOOK_HOSTS: Text('hooks.slack.com,*.webhook.office.com,*.logic.azure.com,*.api.powerplatform.com', 'Hosts alert rules may post Teams and Slack webhooks to, comma-separated (`*.` for subdomains); https only.'),
  KEPT_ALERT_ALLOW_HTTP: Type.Boolean({ default: false, description: 'true: alert webhooks may also be plain http to 127.0.0.1/localhost (tests, a local relay). Never in production.' }),
  KEPT_REPORT_RECIPIENTS: Type.String({
    default: '',
    maxLength: 2000,
    // Addresses, comma-separated (spaces allowed around them): checked at boot, so a typo stops Kept by name.
    pattern: '^(\\s*[^\\s@,<>]+@[^\\s@,<>]+\\.[^\\s@,<>]+\\s*(,\\s*[^\\s@,<>]+@[^\\s@,<>]+\\.[^\\s@,<>]+\\s*)*)?$',
    description: "Who is sent the weekly report when it is published (comma-separated addresses; needs KEPT_SMTP_HOST); empty: no mail.",
  }),
  KEPT_HOMES: Whole(0, "Homes the landlord manages: the regulator's CH01 is complaints per 1,000 homes. 0: not set (the per-1,000 figures are null)."),
  KEPT_IMAP_HOST: Text('', 'The IMAP server holding the shared mailbox (outlook.office365.com, imap.gmail.com); empty: Kept reads no mailbox.'),
  KEPT_IMAP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 993, description: 'The IMAP port.' }),
  KEPT_IMAP_SECURE: Type.Boolean({ default: true, description: 'true: TLS from the start (port 993); false: STARTTLS when offered (port 143).' }),
  KEPT_IMAP_USER: Text('', 'The mailbox user (its address, for Microsoft 365 and Google).'),
  KEPT_IMAP_PASSWORD: Text('', 'The mailbox password or app password (never logged); empty when OAuth2 is used.'),
  KEPT_IMAP_OAUTH_TOKEN_URL: Text('', 'OAuth2 (XOAUTH2): the token endpoint; set, Kept signs in with an access token it fetches and renews instead of a password.'),
  KEPT_IMAP_OAUTH_CLIENT_ID: Text('', 'OAuth2: the application (client) id.'),
  KEPT_IMAP_OAUTH_CLIENT_SECRET: Text('', 'OAuth2: the client secret (never logged).'),
  KEPT_IMAP_OAUTH_REFRESH_TOKEN: Text('', 'OAuth2: a refresh token (delegated access, Google); empty: the client-credentials grant (Microsoft 365 app-only access).'),
  KEPT_IMAP_OAUTH_SCOPE: Text('https://outlook.office365.com/.default', 'OAuth2: the scope asked for (Google: https://mail.google.com/).'),
  KEPT_IMAP_FOLDERS: Text('INBOX,Sent', "The folders read, comma-separated: the customers' mail (INBOX) and the centre's replies (Sent; \"Sent Items\" on Microsoft 365, \"[Gmail]/Sent Mail\" on Google)."),
  KEPT_IMAP_POLL_SECONDS: Whole(60, 'How often each folder is checked besides IDLE (the only way on a server without IDLE).', 5),
  KEPT_IMAP_MARK_SEEN: Type.Boolean({ default: false, description: 'true: mark the messages Kept has read as \\Seen (the only change Kept ever makes to the mailbox); false: open the folders read-only.' }),
  KEPT_TWILIO_AUTH_TOKEN: Text('', "The Twilio account's auth token: checks X-Twilio-Signature on POST /api/v1/ingest/twilio (empty: every Twilio post is refused)."),
  KEPT_PHONE_QUEUES: Text('', 'The centre\'s phone queues, a JSON array: [{"id":"repairs","name":"Repairs line","route":"customer-services","category":"repair","phoneAnswer":true,"match":["Repairs","arn:aws:connect:…:queue/…","WQ…"]}]. customer-services and out-of-hours are built in.'),
  KEPT_PHONE_DEFAULT_QUEUE: Text('customer-services', 'The Kept queue a call from a platform queue nobody mapped goes to (listed at GET /api/v1/admin/phone-queues).'),
  KEPT_PHONE_SERVICE_LEVEL: Type.Integer({ minimum: 1, maximum: 99, default: 80, description: "Staffing: the share of calls (%) to answer within the pack's phone target (e.g. 80% within 5 minutes), for the advisors needed per half hour (Erlang C)." }),
  KEPT_PHONE_HELD_MAX: Whole(10_000, 'Telephony events held at once while waiting for their call to start (past it: 503, so the platform retries).', 1),
  KEPT_PHONE_HELD_DAYS: Whole(7, 'A held event whose call never started is dropped after this many days.', 1),
  KEPT_WEBFORM_MAPPINGS: Text('', 'Named web form field mappings, a JSON object: {"repairs-form":{"message":"your-message","name":"your-name","email":"your-email","phone":"tel","category":"topic","categories":{"Repair":"repair"},"submittedAt":"date","submissionId":"id","zone":"Europe/London"}}; chosen with ?mapping=NAME.'),
  KEPT_WEBFORM_ZONE: Text('Europe/London', 'The zone a form submission time without an offset is read in (Gravity Forms\' date_created…).'),
  KEPT_WEBFORM_MAX_FILES: Whole(10, 'Files one multipart form post may carry (listed on the contact, not stored).', 0),
  KEPT_WEBFORM_BODY_LIMIT: Whole(26_214_400, 'Largest multipart form post, bytes (photos included).', 1024),
  KEPT_PUBLIC_CLOSED_MESSAGE: Message('What customers are told while closed; {nextOpening} ("tomorrow at 08:00"), {phoneTarget}, {replyTarget}.', 'nextOpening|phoneTarget|replyTarget'),
  KEPT_RETENTION_CONTACT_MONTHS: Whole(24, "Months after a contact closed when its customer's personal data is anonymised (docs/privacy.md).", 1),
  KEPT_RETENTION_MESSAGE_MONTHS: Whole(12, 'Months after a contact closed when its messages (subject, summary, free text) are removed.', 1),
  KEPT_RETENTION_AUDIT_MONTHS: Whole(84, 'Months the audit trail is kept (7 years).', 12),
  KEPT_RETENTION_CRON: Text('15 2 * * *', 'When the retention job runs (cron, server time; it also catches up at start); "off": never.'),
  KEPT_RETENTION_BATCH: Whole(100, 'Contacts anonymised per transaction by the retention job (a batch holds the writer for tens of milliseconds).', 1),
});
export type Env = Static<typeof EnvSchema>;

/** Variables read by the tests and benchmarks only: known, so not refused as typos. */
const TOOLING = new Set(['KEPT_SCREENSHOT_DIR', 'KEPT_CHROMIUM', 'KEPT_PROPERTY_SCALE', 'KEPT_PROPERTY_SEED', 'KEPT_TEST_LOG_DIR']);

export interface Config {
  port: number;
  host: string;
  dbFile: string;
  packFamily: string;
  logLevel: string;
  /** The public address (no trailing slash), or '' when not set. */
  publicUrl: string;
  trustProxy: boolean;
  /** Largest request body accepted, bytes. */
  bodyLimit: number;
  emailBodyLimit: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  wsMaxClients: number;
  wsMaxClientsPerAddress: number;
  maxEventsPerContact: number;
  /** KEPT_HOMES: homes managed (TSM CH01 per 1,000 homes); null when not set. */
  homes: number | null;
  /** Longest a write waits for a lock held by another process (then 503 "database locked"). */
  writeTimeoutMs: number;
  /** KEPT_DATABASE_URL: PostgreSQL's connection string, or '' for the SQLite file. Never logged. */
  databaseUrl: string;
  /** KEPT_INSTANCE_ID, or '' for host:pid. */
  instanceId: string;
  pgPoolSize: number;
  /** KEPT_READER_THREADS: reads on this many threads (0: on the main connection). */
  readerThreads: number;
  failedAuthPerMinute: number;
  /** A session unused this long ends. */
  sessionIdleMs: number;
  /** A session ends this long after sign-in. */
  sessionMaxMs: number;
  /** Failed sign-ins in a row before an account locks (and per email within the lock window). */
  signinLockAfter: number;
  signinLockMs: number;
  formPostsPerMinute: number;
  /** The customer-services mailbox: mail to it is route customer-services. */
  mailbox: string;
  /** The organisation's mail domains: mail to other addresses there is colleague-direct; mail from them is a reply. */
  orgDomains: string[];
  socialVerifyToken: string;
  socialAppSecret: string;
  /** The organisation's own page/account id on the social platform: its comments and messages are replies. */
  socialPageId: string;
  /** Serve the built web app from this folder when it exists. */
  webRoot: string;
  /** "High volumes" when this many calls wait… */
  busyCallsWaiting: number;
  /** …or the oldest call has waited this long (seconds). */
  busyOldestWaitSeconds: number;
  /** Most urgent rows a board is sent (the rest are counted in the tiles). */
  boardListLimit: number;
  /** The phone service level aimed for, 0–1 (KEPT_BOARD_SERVICE_LEVEL_TARGET). */
  boardServiceLevelTarget: number;
  /** The calendar the board follows (zone, opening hours, name). */
  boardCalendar: string;
  /** The public messages as configured ('' = the default wording, built from the pack's targets). */
  publicMessages: { open: string; busy: string; closed: string };
  /** Telephony (issue 13): the Twilio auth token, the named queues, the staffing target, the held events' bounds. */
  phone: { twilioAuthToken: string; queues: KeptQueue[]; defaultQueue: string; serviceLevel: number; heldMax: number; heldDays: number };
  /** Web forms (issue 13): named field mappings (JSON, checked by server/ingest/form-presets.ts), the zone for times without offset, multipart bounds. */
  webform: { mappings: string; zone: string; maxFiles: number; bodyLimit: number };
  /** Outgoing mail (server/notify/mail.ts); host '' = no mail. */
  smtp: { host: string; port: number; secure: boolean; user: string; password: string; from: string };
  /** The retention schedule (issue 17, server/privacy/retention.ts); cron null: the job never runs. */
  retention: { contactMonths: number; messageMonths: number; auditMonths: number; cron: string | null; batch: number };
  /** Alert rules: how often they are judged (s), and where their webhooks may post (server/alerts/webhooks.ts). */
  alertCheckSeconds: number;
  alertWebhooks: { hosts: string[]; allowLoopbackHttp: boolean };
  /** Who is sent the weekly report when it is published (KEPT_REPORT_RECIPIENTS); [] = nobody. */
  reportRecipients: string[];
  /** The shared mailbox read over IMAP (server/ingest/imap.ts); host '' = none. */
  imap: ImapConfig;
}

export interface ImapConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  oauth: { tokenUrl: string; clientId: string; clientSecret: string; refreshToken: string; scope: string };
  folders: string[];
  pollMs: number;
  markSeen: boolean;
}

/** A configuration Kept cannot start with: names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function describe(errors: AjvIssue[], env: Record<string, string | undefined>): string {
  const byVar = new Map<string, AjvIssue[]>();
  for (const e of errors) {
    const name = e.instancePath.replace(/^\//, '');
    byVar.set(name, [...(byVar.get(name) ?? []), e]);
  }
  return [...byVar]
    .map(([name, list]) => {
      const allowed = list.filter((e) => e.keyword === 'const').map((e) => String(e.params.allowedValue));
      const rule = allowed.length > 0 ? `must be one of ${allowed.join(', ')}` : (list.find((e) => e.keyword !== 'anyOf')?.message ?? 'is invalid');
      return `${name}: ${rule} (got "${env[name] ?? ''}")`;
    })
    .join('; ');
}

function retentionCron(value: string): string | null {
  const v = value.trim();
  if (v === 'off') return null;
  if (!cron.validate(v)) throw new ConfigError(`KEPT_RETENTION_CRON: must be a cron expression ("15 2 * * *") or "off" (got "${value}")`);
  return v;
}

/** Reads and checks the environment. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Checked by hand, before the schema: the value (a connection string, perhaps with a password) is
  // never repeated in the message, as a schema's error might.
  const url = env.KEPT_DATABASE_URL;
  if (url !== undefined && url !== '') {
    let ok = false;
    try {
      const u = new URL(url);
      ok = (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '' && u.pathname.length > 1;
    } catch {
      ok = false;
    }
    if (!ok || url.length > 2000) throw new ConfigError('KEPT_DATABASE_URL: must be postgres://user:password@host:port/database (the value is not repeated here)');
  }
  const known = new Set(Object.keys(EnvSchema.properties));
  const unknown = Object.keys(env).filter((k) => k.startsWith('KEPT_') && !known.has(k) && !TOOLING.has(k));
  if (unknown.length > 0) throw new ConfigError(`${unknown.join(', ')}: not a Kept setting (known: ${[...known].filter((k) => k.startsWith('KEPT_')).join(', ')})`);
  // An empty value means "the default", as a shell's `KEPT_X= npm start` would suggest.
  const data = Object.fromEntries(Object.keys(EnvSchema.properties).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])));
  let e: Env;
  try {
    e = envSchema<Env>({
      schema: EnvSchema as object,
      data,
      ajv: new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, removeAdditional: true, strict: false }),
    });
  } catch (err) {
    const errors = (err as { errors?: AjvIssue[] }).errors;
    throw new ConfigError(errors ? describe(errors, data) : (err as Error).message);
  }
  let queues: KeptQueue[];
  try {
    queues = parseQueues(e.KEPT_PHONE_QUEUES);
    new QueueSet(queues, e.KEPT_PHONE_DEFAULT_QUEUE);
  } catch (err) {
    if (err instanceof QueueConfigError) throw new ConfigError(`KEPT_PHONE_QUEUES: ${err.message}`);
    throw err;
  }
  try {
    parseMappings(e.KEPT_WEBFORM_MAPPINGS);
  } catch (err) {
    if (err instanceof MappingConfigError) throw new ConfigError(`KEPT_WEBFORM_MAPPINGS: ${err.message}`);
    throw err;
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dbFile: e.KEPT_DB,
    packFamily: e.KEPT_PACK,
    logLevel: e.KEPT_LOG_LEVEL,
    publicUrl: e.KEPT_PUBLIC_URL.replace(/\/$/, ''),
    trustProxy: e.KEPT_TRUST_PROXY,
    bodyLimit: e.KEPT_BODY_LIMIT,
    emailBodyLimit: e.KEPT_EMAIL_BODY_LIMIT,
    headersTimeoutMs: e.KEPT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: Math.max(e.KEPT_REQUEST_TIMEOUT_MS, e.KEPT_HEADERS_TIMEOUT_MS),
    keepAliveTimeoutMs: e.KEPT_KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: e.KEPT_IDLE_TIMEOUT_MS,
    wsMaxClients: e.KEPT_WS_MAX_CLIENTS,
    wsMaxClientsPerAddress: e.KEPT_WS_MAX_CLIENTS_PER_ADDRESS,
    maxEventsPerContact: e.KEPT_MAX_EVENTS_PER_CONTACT,
    homes: e.KEPT_HOMES > 0 ? e.KEPT_HOMES : null,
    writeTimeoutMs: e.KEPT_WRITE_TIMEOUT_MS,
    databaseUrl: e.KEPT_DATABASE_URL,
    instanceId: e.KEPT_INSTANCE_ID,
    pgPoolSize: e.KEPT_PG_POOL,
    readerThreads: e.KEPT_READER_THREADS,
    failedAuthPerMinute: e.KEPT_FAILED_AUTH_PER_MINUTE,
    sessionIdleMs: e.KEPT_SESSION_IDLE_MINUTES * 60_000,
    sessionMaxMs: e.KEPT_SESSION_MAX_HOURS * 3_600_000,
    signinLockAfter: e.KEPT_SIGNIN_LOCK_AFTER,
    signinLockMs: e.KEPT_SIGNIN_LOCK_MINUTES * 60_000,
    formPostsPerMinute: e.KEPT_FORM_POSTS_PER_MINUTE,
    mailbox: e.KEPT_MAILBOX.toLowerCase(),
    orgDomains: e.KEPT_ORG_DOMAINS.split(',')
      .map((d) => d.trim().toLowerCase())
      .filter((d) => d !== ''),
    socialVerifyToken: e.KEPT_SOCIAL_VERIFY_TOKEN,
    socialAppSecret: e.KEPT_SOCIAL_APP_SECRET,
    socialPageId: e.KEPT_SOCIAL_PAGE_ID,
    webRoot: e.KEPT_WEB_ROOT,
    busyCallsWaiting: e.KEPT_BUSY_CALLS_WAITING,
    busyOldestWaitSeconds: e.KEPT_BUSY_OLDEST_WAIT_SECONDS,
    boardListLimit: e.KEPT_BOARD_LIST_LIMIT,
    boardServiceLevelTarget: e.KEPT_BOARD_SERVICE_LEVEL_TARGET / 100,
    boardCalendar: e.KEPT_BOARD_CALENDAR,
    publicMessages: { open: e.KEPT_PUBLIC_OPEN_MESSAGE, busy: e.KEPT_PUBLIC_BUSY_MESSAGE, closed: e.KEPT_PUBLIC_CLOSED_MESSAGE },
    retention: {
      contactMonths: e.KEPT_RETENTION_CONTACT_MONTHS,
      messageMonths: e.KEPT_RETENTION_MESSAGE_MONTHS,
      auditMonths: e.KEPT_RETENTION_AUDIT_MONTHS,
      cron: retentionCron(e.KEPT_RETENTION_CRON),
      batch: e.KEPT_RETENTION_BATCH,
    },
    alertCheckSeconds: e.KEPT_ALERT_CHECK_SECONDS,
    alertWebhooks: {
      hosts: e.KEPT_ALERT_WEBHOOK_HOSTS.split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ''),
      allowLoopbackHttp: e.KEPT_ALERT_ALLOW_HTTP,
    },
    phone: {
      twilioAuthToken: e.KEPT_TWILIO_AUTH_TOKEN,
      queues,
      defaultQueue: e.KEPT_PHONE_DEFAULT_QUEUE,
      serviceLevel: e.KEPT_PHONE_SERVICE_LEVEL,
      heldMax: e.KEPT_PHONE_HELD_MAX,
      heldDays: e.KEPT_PHONE_HELD_DAYS,
    },
    webform: { mappings: e.KEPT_WEBFORM_MAPPINGS, zone: e.KEPT_WEBFORM_ZONE, maxFiles: e.KEPT_WEBFORM_MAX_FILES, bodyLimit: e.KEPT_WEBFORM_BODY_LIMIT },
    smtp: { host: e.KEPT_SMTP_HOST, port: e.KEPT_SMTP_PORT, secure: e.KEPT_SMTP_SECURE, user: e.KEPT_SMTP_USER, password: e.KEPT_SMTP_PASSWORD, from: e.KEPT_SMTP_FROM },
    reportRecipients: e.KEPT_REPORT_RECIPIENTS.split(',')
      .map((a) => a.trim())
      .filter((a) => a !== ''),
    imap: {
      host: e.KEPT_IMAP_HOST,
      port: e.KEPT_IMAP_PORT,
      secure: e.KEPT_IMAP_SECURE,
      user: e.KEPT_IMAP_USER,
      password: e.KEPT_IMAP_PASSWORD,
      oauth: { tokenUrl: e.KEPT_IMAP_OAUTH_TOKEN_URL, clientId: e.KEPT_IMAP_OAUTH_CLIENT_ID, clientSecret: e.KEPT_IMAP_OAUTH_CLIENT_SECRET, refreshToken: e.KEPT_IMAP_OAUTH_REFRESH_TOKEN, scope: e.KEPT_IMAP_OAUTH_SCOPE },
      folders: e.KEPT_IMAP_FOLDERS.split(',')
        .map((f) => f.trim())
        .filter((f) => f !== ''),
      pollMs: e.KEPT_IMAP_POLL_SECONDS * 1000,
      markSeen: e.KEPT_IMAP_MARK_SEEN,
    },
  };
}
