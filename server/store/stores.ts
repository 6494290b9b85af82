// Every store the server's event loop reads (and the few small writes it makes outside the write
// commands), through its asynchronous port (./ports.ts), for one database: SQLite (the default, the
// synchronous stores of this folder seen through asyncOf) or PostgreSQL (./pg/, over a pool). The
// services take a Stores and never a connection, so one server runs on either (issue 14 item 1).
import type pg from 'pg';
import type { Sqlite } from '../../db/connection.js';
import { PgSlots, SqliteSlots, type SlotClaimer } from '../cluster/slots.js';
import type { CalendarSet } from '../domain/clocks.js';
import { loadCalendars } from '../commands/context.js';
import { AlertStore } from './alerts.js';
import { AuditStore } from './audit.js';
import { CalendarStore } from './calendars.js';
import { ContactStore } from './contacts.js';
import { LiveStore } from './live.js';
import { MailStore } from './mail.js';
import { NoticeStore } from './notices.js';
import { PeopleStore } from './people.js';
import { PrivacyStore } from './privacy.js';
import { QueueStore } from './queue.js';
import { PublishedReportStore, ReportStore } from './reports.js';
import { SavedBoardStore } from './saved-boards.js';
import { TelephonyStore } from './telephony.js';
import { TokenStore } from './tokens.js';
import { PgAlertStore } from './pg/alerts.js';
import { PgAuditStore } from './pg/audit.js';
import { PgCalendarStore } from './pg/calendars.js';
import { PgContactReads } from './pg/contacts.js';
import { PgLiveStore } from './pg/live.js';
import { PgMailStore } from './pg/mail.js';
import { PgNoticeStore } from './pg/notices.js';
import { PgPeopleStore } from './pg/people.js';
import { PgPrivacyReads } from './pg/privacy.js';
import { PgQueueStore } from './pg/queue.js';
import { PgPublishedReportStore, PgReportStore } from './pg/reports.js';
import { PgSavedBoardStore } from './pg/saved-boards.js';
import { PgTelephonyStore } from './pg/telephony.js';
import { PgTokenStore } from './pg/tokens.js';
import {
  ALERT_READS, ALERT_WRITES, AUDIT_STORE, CALENDAR_READS, CONTACT_READS, LIVE_READS, MAIL_STORE, NOTICE_READS, NOTICE_WRITES, PEOPLE_STORE,
  PRIVACY_READS, PUBLISHED_READS, QUEUE_STORE, REPORT_READS, SAVED_BOARD_READS, SAVED_BOARD_WRITES, TELEPHONY_STORE, TOKEN_STORE,
  asyncOf, type AlertPort, type Async, type AuditStorePort, type CalendarReads, type LiveReads, type MailStorePort, type NoticePort,
  type PeopleStorePort, type PrivacyReads, type PublishedReads, type QueueStorePort, type ReportReads, type SavedBoardPort,
  type TelephonyStorePort, type TokenStorePort,
} from './ports.js';

/** The contact reads of ports.ts, and the two the channel adapters make (an event by its source key, a sender's open messages). */
export const CONTACT_PORT = [...CONTACT_READS, 'eventByExternal', 'socialMessagesAwaitingReply'] as const;
export type ContactPort = Async<Pick<ContactStore, (typeof CONTACT_PORT)[number]>>;

/** Calendars as stored, and compiled for the engine (one snapshot). */
export type CalendarPort = CalendarReads & { compiled(): Promise<CalendarSet> };

/** The report's shape the report store is built for (server/reports/shape.ts `packShape`). */
export interface ReportStoreShape {
  extendable: readonly string[];
  implied: ReadonlyMap<string, string>;
}

export interface Stores {
  readonly kind: 'sqlite' | 'postgres';
  /** What /health names: the SQLite file, or PostgreSQL's host and database (never a password). */
  readonly name: string;
  readonly contacts: ContactPort;
  readonly calendars: CalendarPort;
  readonly tokens: TokenStorePort;
  readonly people: PeopleStorePort;
  readonly audit: AuditStorePort;
  readonly queue: QueueStorePort;
  readonly mail: MailStorePort;
  readonly telephony: TelephonyStorePort;
  readonly notices: NoticePort;
  readonly savedBoards: SavedBoardPort;
  readonly alerts: AlertPort;
  readonly privacy: PrivacyReads;
  readonly published: PublishedReads;
  readonly slots: SlotClaimer;
  /** The live board's reads, with the standards that imply their channel (server/live/live.ts `impliedChannels`). */
  live(impliedChannels: ReadonlyMap<string, string>): LiveReads;
  /** The weekly report's reads for a pack's shape. */
  reports(shape: ReportStoreShape): ReportReads;
  /** One trivial statement: the database answers (for /health). */
  ping(): Promise<void>;
}

/** The SQLite stores over one connection, each through its port (calls run on this thread, one at a time). */
export function sqliteStores(sqlite: Sqlite, now: () => number = Date.now): Stores {
  const calendarStore = new CalendarStore(sqlite);
  const ping = sqlite.prepare('SELECT 1');
  return {
    kind: 'sqlite',
    name: sqlite.name,
    contacts: asyncOf(new ContactStore(sqlite), CONTACT_PORT),
    calendars: { ...asyncOf(calendarStore, CALENDAR_READS), compiled: async () => loadCalendars(calendarStore) },
    tokens: asyncOf(new TokenStore(sqlite), TOKEN_STORE),
    people: asyncOf(new PeopleStore(sqlite), PEOPLE_STORE),
    audit: asyncOf(new AuditStore(sqlite), AUDIT_STORE),
    queue: asyncOf(new QueueStore(sqlite), QUEUE_STORE),
    mail: asyncOf(new MailStore(sqlite), MAIL_STORE),
    telephony: asyncOf(new TelephonyStore(sqlite), TELEPHONY_STORE),
    notices: asyncOf(new NoticeStore(sqlite), [...NOTICE_READS, ...NOTICE_WRITES]),
    savedBoards: asyncOf(new SavedBoardStore(sqlite), [...SAVED_BOARD_READS, ...SAVED_BOARD_WRITES]),
    alerts: asyncOf(new AlertStore(sqlite), [...ALERT_READS, ...ALERT_WRITES]),
    privacy: asyncOf(new PrivacyStore(sqlite), PRIVACY_READS),
    published: asyncOf(new PublishedReportStore(sqlite), PUBLISHED_READS),
    slots: new SqliteSlots(sqlite, now),
    live: (implied) => asyncOf(new LiveStore(sqlite, implied), LIVE_READS),
    reports: (shape) => asyncOf(new ReportStore(sqlite, shape.extendable, shape.implied), REPORT_READS),
    ping: async () => {
      ping.get();
    },
  };
}

/** The PostgreSQL stores over one pool (db/pg/connection.ts `openPostgres`). */
export function pgStores(pool: pg.Pool, name: string): Stores {
  const calendars = new PgCalendarStore(pool);
  return {
    kind: 'postgres',
    name,
    contacts: new PgContactReads(pool),
    calendars,
    tokens: new PgTokenStore(pool),
    people: new PgPeopleStore(pool),
    audit: new PgAuditStore(pool),
    queue: new PgQueueStore(pool),
    mail: new PgMailStore(pool),
    telephony: new PgTelephonyStore(pool),
    notices: new PgNoticeStore(pool),
    savedBoards: new PgSavedBoardStore(pool),
    alerts: new PgAlertStore(pool),
    privacy: new PgPrivacyReads(pool),
    published: new PgPublishedReportStore(pool),
    slots: new PgSlots(pool),
    live: (implied) => new PgLiveStore(pool, implied),
    reports: (shape) => new PgReportStore(pool, shape.extendable),
    ping: async () => {
      await pool.query('SELECT 1');
    },
  };
}

/** PostgreSQL's host, port and database from a connection string, for /health and the log (never the user or password). */
export function pgName(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname}${u.port === '' ? '' : `:${u.port}`}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}
