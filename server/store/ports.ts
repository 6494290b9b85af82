// The store's asynchronous face (issues 9 and 14). The SQLite stores in this folder are synchronous
// classes over one better-sqlite3 connection: the writer thread and the commands use them as they
// are. What the server's event loop reads goes through these interfaces instead, so a read never
// blocks the loop (SQLite: a pool of reader threads, each with its own read-only connection) and a
// second database can stand behind the same calls (PostgreSQL: a pool of connections).
import type { AlertStore } from './alerts.js';
import type { AuditStore } from './audit.js';
import type { CalendarStore } from './calendars.js';
import type { ContactStore } from './contacts.js';
import type { LiveStore } from './live.js';
import type { MailStore } from './mail.js';
import type { NoticeStore } from './notices.js';
import type { PeopleStore } from './people.js';
import type { PrivacyStore } from './privacy.js';
import type { QueueStore } from './queue.js';
import type { PublishedReportStore, ReportStore } from './reports.js';
import type { SavedBoardStore } from './saved-boards.js';
import type { TelephonyStore } from './telephony.js';
import type { TokenStore } from './tokens.js';

/** Every method of T, answering a promise of what it returned. */
export type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** The contact reads the API, the queue and the explain route make: plain data in, plain data out. */
export type ContactReads = Async<
  Pick<ContactStore, 'byId' | 'byExternal' | 'events' | 'clocks' | 'clock' | 'list' | 'byIds' | 'eventsOf' | 'clocksOf' | 'countRows'>
>;

/** A synchronous store seen through its asynchronous face (tests, the CLI, single-threaded tools). */
export function asyncOf<T extends object, K extends keyof T>(store: T, methods: readonly K[]): Async<Pick<T, K>> {
  const out = {} as Record<K, unknown>;
  for (const m of methods) {
    const f = store[m] as unknown as (...a: unknown[]) => unknown;
    out[m] = async (...a: unknown[]) => f.apply(store, a);
  }
  return out as Async<Pick<T, K>>;
}

export const CONTACT_READS = ['byId', 'byExternal', 'events', 'clocks', 'clock', 'list', 'byIds', 'eventsOf', 'clocksOf', 'countRows'] as const;

// ---- The front door's stores (issue 14 item 1): API tokens, people (users, sessions, displays,
// failed sign-ins and locks) and the audit trail. Every public method of each SQLite store, so the
// PostgreSQL classes (server/store/pg/tokens.ts, people.ts, audit.ts) stand in for them whole.

export const TOKEN_STORE = ['create', 'list', 'revoke', 'verify'] as const;
export type TokenStorePort = Async<Pick<TokenStore, (typeof TOKEN_STORE)[number]>>;

export const PEOPLE_STORE = [
  'create', 'byEmail', 'byId', 'list', 'disable', 'enable', 'setPassword', 'setQueues', 'recordFailure', 'clearFailures',
  'startSession', 'session', 'endSession', 'revokeAll', 'sessions',
  'createDisplay', 'displays', 'revokeDisplay', 'display',
] as const;
export type PeopleStorePort = Async<Pick<PeopleStore, (typeof PEOPLE_STORE)[number]>>;

export const AUDIT_STORE = ['record', 'recent', 'page'] as const;
export type AuditStorePort = Async<Pick<AuditStore, (typeof AUDIT_STORE)[number]>>;

/** True only when `L` names every public member of `T`: a method added to a store and not to its list fails to compile. */
type Whole<T, L extends keyof T> = [Exclude<keyof T, L>] extends [never] ? true : false;
const _whole: [Whole<TokenStore, (typeof TOKEN_STORE)[number]>, Whole<PeopleStore, (typeof PEOPLE_STORE)[number]>, Whole<AuditStore, (typeof AUDIT_STORE)[number]>] = [true, true, true];
void _whole;

// ------------------------------------------------------------------------------------------------
// The live board's and its extras' stores (issue 14 item 1): each port the SQLite store through
// asyncOf(store, NAMES) or its PostgreSQL twin in ./pg/. Reads first; then the small writes of
// notices, saved boards and alert rules (calendar edits stay with the commands: they recompute clocks).

/** The live board's reads: running clocks page by page, today's ledger, urgent rows' words and queues. */
export const LIVE_READS = ['openClocks', 'callsSince', 'receivedSince', 'handledSince', 'details', 'queues'] as const;
export type LiveReads = Async<Pick<LiveStore, (typeof LIVE_READS)[number]>>;

/** Calendars, holidays and closures as stored (compiling them stays pure and shared). */
export const CALENDAR_READS = ['all', 'byId', 'holidays', 'closures'] as const;
export type CalendarReads = Async<Pick<CalendarStore, (typeof CALENDAR_READS)[number]>>;

export const NOTICE_READS = ['notice', 'inForce', 'upcoming', 'message'] as const;
export const NOTICE_WRITES = ['addNotice', 'withdraw', 'postMessage', 'endMessage'] as const;
export type NoticeReads = Async<Pick<NoticeStore, (typeof NOTICE_READS)[number]>>;
export type NoticePort = Async<Pick<NoticeStore, (typeof NOTICE_READS)[number] | (typeof NOTICE_WRITES)[number]>>;

export const SAVED_BOARD_READS = ['all', 'byId', 'idByName', 'choice', 'choices', 'displayActive'] as const;
export const SAVED_BOARD_WRITES = ['insert', 'update', 'remove', 'setChoice'] as const;
export type SavedBoardReads = Async<Pick<SavedBoardStore, (typeof SAVED_BOARD_READS)[number]>>;
export type SavedBoardPort = Async<Pick<SavedBoardStore, (typeof SAVED_BOARD_READS)[number] | (typeof SAVED_BOARD_WRITES)[number]>>;

export const ALERT_READS = ['rules', 'rule', 'lastSend', 'sendsOf', 'dueBetween', 'flagsAfter', 'lastFlagId'] as const;
export const ALERT_WRITES = ['insert', 'update', 'remove', 'recordSend'] as const;
export type AlertReads = Async<Pick<AlertStore, (typeof ALERT_READS)[number]>>;
export type AlertPort = Async<Pick<AlertStore, (typeof ALERT_READS)[number] | (typeof ALERT_WRITES)[number]>>;

// ---- H5, telephony and mail on PostgreSQL (issue 14): every public method of TelephonyStore (held
// call events, the call ledger, unknown queues, advisors' states) and of MailStore (automatic mail,
// IMAP read positions), so server/store/pg/telephony.ts and mail.ts stand in for them whole.

export const TELEPHONY_STORE = [
  'held', 'heldTotal', 'hold', 'release', 'expire', 'record', 'ledger', 'offeredBetween', 'answeredBetween',
  'noteUnknownQueue', 'unknownQueues', 'setAdvisorState', 'advisorStates',
] as const;
export type TelephonyStorePort = Async<Pick<TelephonyStore, (typeof TELEPHONY_STORE)[number]>>;

export const MAIL_STORE = ['automatic', 'recentAutomatic', 'insertAutomatic', 'socialContactsOf', 'cursor', 'saveCursor'] as const;
export type MailStorePort = Async<Pick<MailStore, (typeof MAIL_STORE)[number]>>;

const _wholePhoneMail: [Whole<TelephonyStore, (typeof TELEPHONY_STORE)[number]>, Whole<MailStore, (typeof MAIL_STORE)[number]>] = [true, true];
void _wholePhoneMail;

// ---- H7 (pg-queue): the people's queue store (issue 14): the unassigned work, the team's load,
// safeguarding alerts and the reference sequences. Every public method of the SQLite QueueStore, so
// PgQueueStore (server/store/pg/queue.ts) stands in for it whole.

export const QUEUE_STORE = ['unassigned', 'openClockOwners', 'openAlerts', 'alertsOf', 'openAlertsOf', 'alert', 'raise', 'action', 'next'] as const;
export type QueueStorePort = Async<Pick<QueueStore, (typeof QUEUE_STORE)[number]>>;
const _wholeQueue: Whole<QueueStore, (typeof QUEUE_STORE)[number]> = true;
void _wholeQueue;

// ---- H6 (pg-privacy-reports): personal data and the weekly report's stores (issues 16 and 17 on
// issue 14's PostgreSQL). The reads go through these ports (server/store/pg/privacy.ts, reports.ts);
// every other public member is a step of a write command, which PostgreSQL runs as one transaction
// (server/store/pg/privacy-commands.ts), or the SQL the plan tests explain.

// settleFiles is no read: the file's upkeep after an erasure (SQLite's checkpoint), asked for by the
// service on the event loop's connection as the reads are.
export const PRIVACY_READS = ['search', 'openHolds', 'holdsOf', 'hold', 'holdReasons', 'privacyOf', 'privacyOfEach', 'retentionBatch', 'hasAuditBefore', 'settleFiles'] as const;
export type PrivacyReads = Async<Pick<PrivacyStore, (typeof PRIVACY_READS)[number]>>;
/** PrivacyStore's members written by the commands (create-contact's keys, anonymise-contacts, privacy-hold, prune-audit). */
type PrivacyCommandSteps =
  | 'insertKeys' | 'placeHold' | 'releaseHold' | 'removeMessages' | 'anonymise' | 'events' | 'updateEventBody'
  | 'clockDetails' | 'updateClockDetail' | 'scrubAlerts' | 'forgetSamples' | 'pruneAudit';

export const REPORT_READS = [
  'clockRows', 'counts', 'contactsOf', 'people', 'handledCount', 'qualityEvents', 'cameBack', 'complaintContacts', 'hazardClocks',
  'holidaysBetween', 'closuresBetween', 'teams',
] as const;
export type ReportReads = Async<Pick<ReportStore, (typeof REPORT_READS)[number]>>;

export const PUBLISHED_READS = ['published', 'lastPublishedWeek'] as const;
export type PublishedReads = Async<Pick<PublishedReportStore, (typeof PUBLISHED_READS)[number]>>;

const _wholeH6: [
  Whole<PrivacyStore, (typeof PRIVACY_READS)[number] | PrivacyCommandSteps>,
  Whole<ReportStore, (typeof REPORT_READS)[number] | 'statements'>,
  Whole<PublishedReportStore, (typeof PUBLISHED_READS)[number] | 'statements' | 'add'>,
] = [true, true, true];
void _wholeH6;
