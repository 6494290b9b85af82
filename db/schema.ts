// The store's tables (drizzle, SQLite). Instants are integer epoch milliseconds.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const contacts = sqliteTable(
  'contacts',
  {
    id: text('id').primaryKey(),
    channel: text('channel').notNull(),
    route: text('route').notNull(),
    /** The category in force now (after any recategorisation). */
    category: text('category').notNull(),
    initialCategory: text('initial_category').notNull(),
    externalId: text('external_id'),
    receivedAt: integer('received_at').notNull(),
    packFamily: text('pack_family').notNull(),
    /** Customer details (name, address, preferred contact method, accessibility needs) as JSON. */
    customer: text('customer', { mode: 'json' }),
    subject: text('subject'),
    summary: text('summary'),
    assignee: text('assignee'),
    callback: integer('callback', { mode: 'boolean' }).notNull().default(false),
    /** Hash of the contact as first posted: a replay with the same key but other content is a conflict. */
    contentHash: text('content_hash').notNull(),
    /** Source-specific facts (call id, Message-ID, attachment names and sizes…) as JSON. */
    source: text('source', { mode: 'json' }),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /**
     * How far the personal data has been taken out (issue 17, server/privacy/): 0 as received,
     * 1 messages removed (subject, summary, free text in events and alerts), 2 anonymised (every
     * personal field). What the figures need (channel, route, category, instants, clocks) stays.
     */
    privacy: integer('privacy').notNull().default(0),
    anonymisedAt: integer('anonymised_at'),
    /**
     * The named phone queue (issue 13) of a phone or voicemail contact: `source.queue` as ingested,
     * else its route (the two built-in queues are named after the routes); null for other channels.
     * Set once at insert (server/store/contacts.ts `queueOf`), never changed: a column, not
     * json_extract per row, so a queue's list walks its own index and the report reads it with the row.
     */
    queue: text('queue'),
  },
  (t) => [
    // The retention job's walk: contacts not yet anonymised, by stage, oldest first (anonymised ones leave it).
    index('contacts_privacy_pending').on(t.privacy, t.receivedAt, t.id).where(sql`${t.privacy} < 2`),
    uniqueIndex('contacts_channel_external_id').on(t.channel, t.externalId),
    // Lists go newest first by (received_at, id). Channel and category ride along, so a list
    // filtered by them is judged in the index and reads only the rows it returns.
    index('contacts_received_at').on(t.receivedAt, t.id, t.channel, t.category),
    // One category's contacts, newest first, the channel riding along: a list of a category, or of
    // a channel and a category (voicemail compliments, 0.2% of contacts), walks that category's
    // entries, where contacts_received_at would pass every contact's (~500 per voicemail compliment).
    index('contacts_category_received').on(t.category, t.receivedAt, t.id, t.channel),
    // An advisor's contacts, newest first (only assigned contacts are indexed).
    index('contacts_assignee_received')
      .on(t.assignee, t.receivedAt, t.id)
      .where(sql`${t.assignee} IS NOT NULL`),
    // A named phone queue's contacts, newest first (GET /api/v1/contacts?queue=): only phone and
    // voicemail contacts are indexed; channel and category ride along, as in contacts_received_at.
    index('contacts_queue_received')
      .on(t.queue, t.receivedAt, t.id, t.channel, t.category)
      .where(sql`${t.queue} IS NOT NULL`),
    // Each open clock's owner, read from the index alone (the team's load: one seek per open
    // contact, never the wide row with the customer's JSON and the message).
    index('contacts_id_assignee').on(t.id, t.assignee),
    // A page's reply to a private message finds that sender's messages (social.ts).
    index('contacts_social_sender')
      .on(sql`json_extract(${t.source}, '$.senderId')`, t.receivedAt)
      .where(sql`${t.channel} = 'social'`),
    // First contact resolution (the weekly report): did the same customer (their tenancy or customer
    // reference) come back on the same matter within 7 days? Only contacts that carry a reference.
    index('contacts_customer_reference')
      .on(sql`json_extract(${t.customer}, '$.reference')`, t.receivedAt)
      .where(sql`json_extract(${t.customer}, '$.reference') IS NOT NULL`),
  ],
);

/**
 * Append-only: events are inserted, never updated or deleted — except that anonymisation (issue 17)
 * replaces the free text of an event's reason; its type, instants and effect on the clocks stay.
 */
export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contactId: text('contact_id')
      .notNull()
      .references(() => contacts.id),
    /** Arrival order within the contact (ties at the same `at` go in this order). */
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: integer('at').notNull(),
    externalId: text('external_id'),
    /** The event as received (validated), JSON. */
    body: text('body', { mode: 'json' }).notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('events_contact_seq').on(t.contactId, t.seq),
    uniqueIndex('events_contact_external_id').on(t.contactId, t.externalId).where(sql`${t.externalId} IS NOT NULL`),
    // The weekly report's quality figures: a contact's resolution and identity check, by contact (only those rows).
    index('events_quality').on(t.contactId, t.type, t.at).where(sql`${t.type} IN ('resolved', 'identity-verified')`),
    // The regulator's view: complaints escalated or answered in a period, by instant (only those rows).
    index('events_complaint_stage').on(t.type, t.at, t.contactId).where(sql`${t.type} IN ('escalated', 'resolved')`),
  ],
);

/** One row per contact and standard: the engine's latest answer. */
export const clocks = sqliteTable(
  'clocks',
  {
    contactId: text('contact_id')
      .notNull()
      .references(() => contacts.id),
    standard: text('standard').notNull(),
    /** The contact's receivedAt (it never changes), so lists can page clocks in the contacts' order. */
    receivedAt: integer('received_at').notNull(),
    standardVersion: text('standard_version').notNull(),
    calendar: text('calendar').notNull(),
    status: text('status').notNull(),
    /** 1 while the clock runs (running, at-risk, breached, paused). */
    open: integer('open', { mode: 'boolean' }).notNull(),
    startedAt: integer('started_at').notNull(),
    dueAt: integer('due_at'),
    atRiskAt: integer('at_risk_at'),
    fulfilledAt: integer('fulfilled_at'),
    endedAt: integer('ended_at'),
    targetMs: integer('target_ms').notNull(),
    countedMs: integer('counted_ms').notNull(),
    /** When a timer (or recompute) last changed the status: the instant it really happened. */
    statusChangedAt: integer('status_changed_at'),
    /** The whole clock as the engine computed it (pauses, notes, extension…), JSON. */
    detail: text('detail', { mode: 'json' }).notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.contactId, t.standard] }),
    // Running clocks newest first, with what judges their status against now (and the calendar a
    // calendar edit recomputes, and what the board loads at start): covering, so no table lookups.
    index('clocks_open_received')
      .on(t.receivedAt, t.contactId, t.standard, t.status, t.dueAt, t.atRiskAt, t.calendar)
      .where(sql`${t.open} = 1`),
    // Lists by a stored status (met, missed, cancelled, paused…) or by standard, newest first.
    index('clocks_status_received').on(t.status, t.receivedAt, t.contactId, t.standard),
    index('clocks_standard_received').on(t.standard, t.receivedAt, t.contactId),
    // Clocks met or missed today (the board's ledger at start).
    index('clocks_ended_at').on(t.endedAt),
    // Open clocks in due order (the unassigned work of a queue, earliest due first): a walk that stops at the page.
    index('clocks_open_due').on(t.dueAt, t.contactId).where(sql`${t.open} = 1`),
    // The weekly report (issue 16): a week's ended clocks with everything its figures read, so a week (and a
    // twelve-week trend) is a covering walk, no table row. Ended clocks only: their values are settled, so
    // the writes that keep running clocks up to date (updateClockBody) never touch it.
    index('clocks_report_ended')
      .on(t.receivedAt, t.standard, t.standardVersion, t.status, t.startedAt, t.dueAt, t.fulfilledAt, t.endedAt, t.countedMs, t.contactId)
      .where(sql`${t.open} = 0`),
  ],
);

export const calendars = sqliteTable('calendars', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  timeZone: text('time_zone').notNull(),
  weeklyHours: text('weekly_hours', { mode: 'json' }).notNull(),
  division: text('division').notNull(),
  workingDayMs: integer('working_day_ms').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Bank holidays per GOV.UK division, with the years the imported data covers. */
export const holidays = sqliteTable(
  'holidays',
  {
    division: text('division').notNull(),
    date: text('date').notNull(),
    title: text('title').notNull(),
  },
  (t) => [primaryKey({ columns: [t.division, t.date] })],
);

export const closures = sqliteTable(
  'closures',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    calendarId: text('calendar_id')
      .notNull()
      .references(() => calendars.id),
    from: integer('from').notNull(),
    to: integer('to').notNull(),
    reason: text('reason'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('closures_calendar').on(t.calendarId, t.from)],
);

export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
  lastUsedAt: integer('last_used_at'),
});

export const audit = sqliteTable(
  'audit',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    detail: text('detail', { mode: 'json' }),
  },
  // Filtered, newest-first pages of the trail (GET /api/v1/audit?actor=&action=): keyed on id.
  (t) => [index('audit_at').on(t.at), index('audit_actor_id').on(t.actor, t.id), index('audit_action_id').on(t.action, t.id)],
);

/**
 * Safeguarding alerts (issue 10): a contact flagged as a safety or safeguarding concern, raised by an
 * advisor or an integration's field, shown to team leads until someone records an action.
 */
export const alerts = sqliteTable(
  'alerts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contactId: text('contact_id')
      .notNull()
      .references(() => contacts.id),
    /** `safeguarding` or `vulnerability`. */
    kind: text('kind').notNull(),
    note: text('note'),
    raisedAt: integer('raised_at').notNull(),
    /** An advisor's email, or `token:NAME` / `integration` for a source system's field. */
    raisedBy: text('raised_by').notNull(),
    actionedAt: integer('actioned_at'),
    actionedBy: text('actioned_by'),
    action: text('action'),
  },
  (t) => [
    // Open alerts, oldest first (the team lead's list); a contact's alerts by the second.
    index('alerts_open').on(t.raisedAt, t.id).where(sql`${t.actionedAt} IS NULL`),
    index('alerts_contact').on(t.contactId, t.id),
  ],
);

/** Per-year sequences Kept issues references from (complaints: `CMP-2026-000123`). */
export const sequences = sqliteTable(
  'sequences',
  {
    name: text('name').notNull(),
    year: integer('year').notNull(),
    value: integer('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.year] })],
);

/**
 * People who sign in (issue 10). The email is stored lower-cased. The password is an scrypt hash
 * with its own salt and parameters (`scrypt$N$r$p$salt$hash`, server/store/users.ts). `queues` is
 * the list of routes or categories an advisor works, JSON (`["customer-services", "repairs"]`).
 */
export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: text('role').notNull(),
  passwordHash: text('password_hash').notNull(),
  /** A one-time password (new account, admin reset): nothing else is allowed until it is changed. */
  mustChangePassword: integer('must_change_password', { mode: 'boolean' }).notNull().default(true),
  queues: text('queues', { mode: 'json' }).notNull(),
  disabledAt: integer('disabled_at'),
  /** Failed sign-ins in a row; at the limit the account is locked until `locked_until`. */
  failedSignins: integer('failed_signins').notNull().default(0),
  lockedUntil: integer('locked_until'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Sessions: the cookie holds a random id; only its SHA-256 is stored. Revocable, expiring. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    idHash: text('id_hash').notNull().unique(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: integer('created_at').notNull(),
    /** Last request seen (written at most once a minute): the idle lifetime counts from it. */
    lastSeenAt: integer('last_seen_at').notNull(),
    /** The absolute end: created_at + the absolute lifetime. */
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('sessions_user').on(t.userId, t.createdAt)],
);

/** Wall screens: a named display whose long random secret (shown once) is stored as SHA-256. */
export const displays = sqliteTable('displays', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  revokedAt: integer('revoked_at'),
});

/**
 * A person's keys (issue 17): each contact's customer email, phone, name (whole and each word) and
 * tenancy reference, normalised (server/privacy/keys.ts), so one person is found by an index seek
 * instead of a scan of every contact's JSON. Written with the contact; deleted when it is anonymised.
 */
export const personKeys = sqliteTable(
  'person_keys',
  {
    /** `email`, `phone`, `name` or `reference`. */
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    contactId: text('contact_id')
      .notNull()
      .references(() => contacts.id),
  },
  (t) => [primaryKey({ columns: [t.kind, t.value, t.contactId] }), index('person_keys_contact').on(t.contactId)],
);

/**
 * Legal holds (issue 17): while one stands on a contact (an Ombudsman complaint, a claim, a
 * safeguarding enquiry), neither erasure nor the retention schedule touches it.
 */
export const privacyHolds = sqliteTable(
  'privacy_holds',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contactId: text('contact_id')
      .notNull()
      .references(() => contacts.id),
    reason: text('reason').notNull(),
    placedBy: text('placed_by').notNull(),
    placedAt: integer('placed_at').notNull(),
    releasedAt: integer('released_at'),
    releasedBy: text('released_by'),
  },
  (t) => [index('privacy_holds_contact').on(t.contactId, t.releasedAt)],
);

/**
 * Alert rules (issue 11): a team lead's condition on the live state (a standard breached, calls
 * waiting, the oldest wait, the last 30 minutes' service level, a safeguarding flag) and where it is
 * sent (email recipients, a Teams and a Slack incoming webhook: secrets, stored as given, shown masked).
 */
export const alertRules = sqliteTable('alert_rules', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  /** `breach` | `calls-waiting` | `oldest-wait` | `service-level` | `safeguarding`. */
  kind: text('kind').notNull(),
  /** The threshold (calls, seconds, percent), or null for breach and safeguarding. */
  threshold: integer('threshold'),
  /** Breach rules: the standards watched (JSON list; empty: every standard). */
  standards: text('standards', { mode: 'json' }).notNull(),
  /** Email recipients, JSON list. */
  emails: text('emails', { mode: 'json' }).notNull(),
  teamsUrl: text('teams_url'),
  slackUrl: text('slack_url'),
  /** After a send, further sends of this rule wait this long (what happens meanwhile is summed up in one later message). */
  quietMinutes: integer('quiet_minutes').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  deletedAt: integer('deleted_at'),
});

/** Every alert sent (or tried): the rule, when, what it covered, and each channel's outcome. */
export const alertSends = sqliteTable(
  'alert_sends',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ruleId: integer('rule_id')
      .notNull()
      .references(() => alertRules.id),
    at: integer('at').notNull(),
    /** The de-duplication keys the message covered (`breach:C/standard`, `calls-waiting`), JSON. */
    keys: text('keys', { mode: 'json' }).notNull(),
    subject: text('subject').notNull(),
    /** Per channel: `sent` or the reason it failed (never the webhook's address), JSON. */
    outcome: text('outcome', { mode: 'json' }).notNull(),
  },
  // A rule's latest sends (its quiet period across a restart; the history page).
  (t) => [index('alert_sends_rule').on(t.ruleId, t.at)],
);

/** A team lead's message on every board ("phones down at 14:00"): one stands at a time. */
export const boardMessages = sqliteTable('board_messages', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  text: text('text').notNull(),
  by: text('by').notNull(),
  at: integer('at').notNull(),
  /** Taken down by itself at this instant, or null. */
  until: integer('until'),
  endedAt: integer('ended_at'),
  endedBy: text('ended_by'),
});

/** An admin's public notice (technical issues, adverse weather): shown by the public status and the form from start to end. */
export const notices = sqliteTable(
  'notices',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** `technical` | `weather` | `other`. */
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    message: text('message').notNull(),
    startsAt: integer('starts_at').notNull(),
    endsAt: integer('ends_at').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    withdrawnAt: integer('withdrawn_at'),
  },
  // Notices not yet ended: a keyed range from now.
  (t) => [index('notices_ends').on(t.endsAt, t.startsAt)],
);

/** A saved board: a named filter of the board for a team (queues, channels, categories). */
export const savedBoards = sqliteTable('saved_boards', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  team: text('team').notNull(),
  /** `{queues, channels, categories}`: lists; an empty list does not filter. JSON. */
  filter: text('filter', { mode: 'json' }).notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** What a wall display shows: one saved board, or several in turn every `rotate_seconds`. */
export const displayBoards = sqliteTable('display_boards', {
  displayId: integer('display_id')
    .primaryKey()
    .references(() => displays.id),
  /** Saved board ids in order, JSON. */
  boards: text('boards', { mode: 'json' }).notNull(),
  rotateSeconds: integer('rotate_seconds').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Published weekly reports (issue 16): each publication of a week is a revision, stored whole as it was
 * published (the JSON of GET /api/v1/reports/weekly/:week). Regenerating adds a revision; none is
 * changed or deleted. Who published and why are also in the audit trail.
 */
export const publishedReports = sqliteTable(
  'published_reports',
  {
    week: text('week').notNull(),
    revision: integer('revision').notNull(),
    publishedAt: integer('published_at').notNull(),
    publishedBy: text('published_by').notNull(),
    reason: text('reason'),
    report: text('report', { mode: 'json' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.week, t.revision] })],
);

/**
 * Automatic mail (issue 12): bounces, delay warnings, read receipts, abuse reports, out-of-office
 * replies. Never a contact and never a reply; kept here (and, when it names a stored thread, as an
 * event on that contact). `reply`: the centre's reply a bounce returned (marked undelivered).
 */
export const automaticMail = sqliteTable(
  'automatic_mail',
  {
    messageId: text('message_id').primaryKey(),
    receivedAt: integer('received_at').notNull(),
    kind: text('kind').notNull(),
    marker: text('marker').notNull(),
    subject: text('subject'),
    contactId: text('contact_id'),
    reply: text('reply'),
    recordedAt: integer('recorded_at').notNull(),
  },
);

/**
 * Where Kept has read each IMAP folder to (issue 12): the folder's UIDVALIDITY and the highest UID
 * taken. A new UIDVALIDITY means the server renumbered the folder: it is read again from its start
 * (Message-IDs make that harmless).
 */
export const mailCursors = sqliteTable('mail_cursors', {
  folder: text('folder').primaryKey(),
  uidValidity: text('uid_validity').notNull(),
  lastUid: integer('last_uid').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Telephony events that arrived before their call's start (issue 13): held, bounded, until the
 * call's `queued` arrives, then applied and deleted. Keyed by call and event key, so a redelivery is one row.
 */
export const heldCallEvents = sqliteTable(
  'held_call_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    callId: text('call_id').notNull(),
    eventKey: text('event_key').notNull(),
    /** The event in Kept's call-event form (server/ingest/telephony.ts CallEvent), JSON. */
    event: text('event', { mode: 'json' }).notNull(),
    heldAt: integer('held_at').notNull(),
  },
  (t) => [uniqueIndex('held_call_events_key').on(t.callId, t.eventKey), index('held_call_events_held_at').on(t.heldAt)],
);

/**
 * One row per call (issue 13): its Kept queue, when it was offered, answered, ended, by whom, and
 * its talk and wrap-up time: what handle time and the half-hour staffing figures are read from.
 */
export const callLedger = sqliteTable(
  'call_ledger',
  {
    callId: text('call_id').primaryKey(),
    queue: text('queue'),
    offeredAt: integer('offered_at'),
    answeredAt: integer('answered_at'),
    abandonedAt: integer('abandoned_at'),
    endedAt: integer('ended_at'),
    agent: text('agent'),
    talkMs: integer('talk_ms'),
    wrapMs: integer('wrap_ms'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('call_ledger_offered_at').on(t.offeredAt, t.queue), index('call_ledger_answered_at').on(t.answeredAt, t.agent)],
);

/** Platform queues Kept has no mapping for (issue 13): listed for an admin to map (KEPT_PHONE_QUEUES). */
export const unknownQueues = sqliteTable(
  'unknown_queues',
  {
    platform: text('platform').notNull(),
    queueKey: text('queue_key').notNull(),
    firstSeen: integer('first_seen').notNull(),
    lastSeen: integer('last_seen').notNull(),
    calls: integer('calls').notNull(),
  },
  (t) => [primaryKey({ columns: [t.platform, t.queueKey] })],
);

/** Each advisor's latest state as the platform reported it (issue 13): available, on-call, wrap-up, away. */
export const advisorStates = sqliteTable(
  'advisor_states',
  {
    platform: text('platform').notNull(),
    advisor: text('advisor').notNull(),
    state: text('state').notNull(),
    /** The platform's own word for it (TaskRouter activity name, Genesys routing status…). */
    detail: text('detail'),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.platform, t.advisor] })],
);

/**
 * One row per run of a scheduled job that an instance claimed (issue 14, item 5): the job's name and
 * its slot (the instant the run was due, ISO 8601 UTC). The primary key lets exactly one claim
 * through, so N instances (or two processes on one file) run each Monday report once, and the
 * catch-up on start, claiming the same slot, does not run it again (server/cluster/slots.ts).
 */
export const jobSlots = sqliteTable(
  'job_slots',
  {
    job: text('job').notNull(),
    slot: text('slot').notNull(),
    /** Which instance claimed it (host:pid, or KEPT_INSTANCE_ID). */
    instance: text('instance').notNull(),
    claimedAt: integer('claimed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.job, t.slot] })],
);
