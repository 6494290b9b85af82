// The live WebSocket protocol (`/api/v1/live`): types shared by the server and the web app.
// Instants are ISO-8601 UTC strings with milliseconds.

export type LiveChannel = 'phone' | 'email' | 'webform' | 'social' | 'voicemail';

/** One channel's tile on the board. */
export interface ChannelTile {
  channel: LiveChannel;
  /** Contacts waiting now: calls queued and not yet answered/abandoned; written contacts with an open reply clock. */
  waitingNow: number;
  /** receivedAt of the oldest contact waiting now (the board ticks its age live), or null. */
  oldestWaitingSince: string | null;
  /** Contacts whose clock for this channel was met or missed today (local date). */
  handledToday: number;
  atRisk: number;
  breached: number;
}

export interface PhoneFigures {
  /** The pack's phone-answer target in ms (the "within 5 min" of the tile), or null when the pack has none. */
  targetMs: number | null;
  /** Today's phone service level, 0–1 (STANDARDS §6), or null before the first call. */
  serviceLevel: number | null;
  offered: number;
  answeredWithinTarget: number;
  shortAbandons: number;
  abandons: number;
  /** Calls waiting longer than the target now. */
  callsWaitingOverTarget: number;
  callbacksRequested: number;
  callbacksConnected: number;
  /** Average speed of answer today in ms, or null. */
  averageSpeedOfAnswerMs: number | null;
  /**
   * The service level's denominator (STANDARDS §6): calls whose outcome is known against the target —
   * answered, abandoned after 5 s, or still waiting past the target. "86 of 96 decided calls".
   */
  decided: number;
  /** Calls still waiting and still inside the target: not yet counted either way ("48 still waiting"). */
  stillWaiting: number;
  /** The same service level over calls that entered the queue in the last 15, 30 and 60 minutes. */
  recent: RecentServiceLevel[];
  /**
   * How long a caller joining the queue now can expect to wait, ms: (calls waiting + 1) ÷ the rate
   * calls were answered over the last 15 minutes. 0 when nobody is waiting and calls are being
   * answered; null when no call was answered in the last 15 minutes (no rate to go on).
   */
  estimatedWaitMs: number | null;
  /** Calls answered in the last 15 minutes: the estimate's basis. */
  answeredLast15: number;
}

/** The phone service level over calls that entered the queue in the last `minutes`. */
export interface RecentServiceLevel {
  minutes: number;
  serviceLevel: number | null;
  answeredWithinTarget: number;
  decided: number;
  stillWaiting: number;
}

/** The heaviest promises (complaints and emergencies): one figure per standard, whatever the channel. */
export interface PromiseTile {
  standard: string;
  /** Running clocks of the standard (running, at risk, breached or paused). */
  open: number;
  atRisk: number;
  breached: number;
  paused: number;
  /** Open clocks running to an agreed extension (`extended` event): their due instant is the agreed one. */
  extended: number;
  /** Due instant of the soonest open clock that is not yet breached, or null. */
  nextDueAt: string | null;
}

/** Today's promises per standard: kept (met today) and broken (their deadline passed today unmet). */
export interface PromiseTally {
  standard: string;
  /** Clocks met today (fulfilled by their due instant), extensions included. */
  kept: number;
  /** Of `kept`, met within an agreed extension. */
  keptExtended: number;
  /**
   * Clocks whose due instant fell today, before now, and that were not met by it: still breached, or
   * since ended as missed (handled late, so gone from the list, but still broken).
   */
  broken: number;
}

/**
 * Half-hour buckets of today (local time) for the intraday chart: the calendar's opening hours today,
 * widened to the first contact received and to now.
 */
export interface IntradayBucket {
  /** Start of the half hour (ISO). */
  from: string;
  /** Local label, e.g. "09:30". */
  label: string;
  /** Contacts received in the half hour, all channels. */
  volume: number;
  /** Calls offered in the half hour. */
  callsOffered: number;
  /** Phone service level of calls offered in the half hour, 0–1, or null. */
  serviceLevel: number | null;
}

/** A named phone queue now (issue 13): its calls waiting (open phone-answer clocks) and the oldest's start. */
export interface PhoneQueueNow {
  /** Kept's queue id (the contact's `source.queue`). */
  queue: string;
  /** What people read: "Repairs line". */
  name: string;
  /** Configured in KEPT_PHONE_QUEUES (not one of the two built in). */
  named: boolean;
  waitingNow: number;
  /** receivedAt of the oldest call waiting in this queue (the board ticks its age), or null. */
  oldestWaitingSince: string | null;
}

export interface BusyNotice {
  busy: boolean;
  /** Words for customers and for the board's banner. */
  message: string;
  callsWaiting: number;
  longestWaitSeconds: number;
}

export interface BoardFigures {
  /** The instant the figures were computed. */
  at: string;
  /** Local date the "today" figures cover, YYYY-MM-DD. */
  today: string;
  /** The board calendar's zone: the board shows every time in it. */
  timeZone: string;
  /** The board's calendar (KEPT_BOARD_CALENDAR): opening hours, open now, the intraday chart's span. */
  calendar: string;
  /** The board's heading: the calendar's name. */
  title: string;
  openNow: boolean;
  nextOpening: string;
  tiles: ChannelTile[];
  phone: PhoneFigures;
  /** The service level the centre aims for, 0–1 (KEPT_BOARD_SERVICE_LEVEL_TARGET): the chart's target line. */
  serviceLevelTarget: number;
  /** Complaints and emergencies: acknowledge, resolve, make safe, arrange repair (those the pack has). */
  promises: PromiseTile[];
  /**
   * Hazards (Awaab's Law): one figure per statutory standard (investigate, summary, make safe, begin
   * further work), whatever the channel. These clocks are left out of the channel tiles' at risk and
   * breached: they are not the channel's first response.
   */
  hazards: PromiseTile[];
  /** Today's promises kept and broken, per standard (every standard with either today). */
  tally: PromiseTally[];
  intraday: IntradayBucket[];
  busy: BusyNotice;
  /**
   * The phone queues (issue 13): every configured queue, then any other a waiting call names; the
   * calls waiting split by their queue. Added by the live service (absent from board.ts's figures).
   */
  phoneQueues?: PhoneQueueNow[];
}

/** A running clock that is at risk or breached: a row of the board's urgent list. */
export interface UrgentClock {
  contactId: string;
  standard: string;
  status: 'at-risk' | 'breached';
  dueAt: string;
  atRiskAt: string | null;
  channel: LiveChannel;
  category: string;
  receivedAt: string;
  customerName: string | null;
  subject: string | null;
  assignee: string | null;
  /** The contact's route (the queue it is in): customer-services, colleague-direct, out-of-hours. */
  route: string;
  /** The clock runs to an agreed extension. */
  extended: boolean;
}

/** A promise broken today (GET /api/v1/live/broken): due today before now and not met by then. */
export interface BrokenPromise {
  contactId: string;
  standard: string;
  /** breached: still open; missed / missed-extended: handled late since. */
  status: 'breached' | 'missed' | 'missed-extended';
  dueAt: string;
  channel: LiveChannel;
  category: string;
  route: string;
  customerName: string | null;
  subject: string | null;
  assignee: string | null;
}

export interface SnapshotMessage {
  type: 'snapshot';
  seq: number;
  board: BoardFigures;
  /** The open at-risk and breached clocks, most urgent (earliest dueAt) first: at most `urgentLimit`. */
  urgent: UrgentClock[];
  /** How many there are in all (the tiles' at-risk and breached counts add up to it). */
  urgentTotal: number;
  /** The most rows a snapshot or delta carries (KEPT_BOARD_LIST_LIMIT). */
  urgentLimit: number;
  /** Where these figures stand in the shared change feed (PostgreSQL): see `DeltaMessage.mark`. */
  mark?: string;
}

export interface DeltaMessage {
  type: 'delta';
  seq: number;
  /** Why: 'contact' (an event came in), 'timer' (a clock turned at-risk or breached), 'calendar'. */
  cause: 'contact' | 'timer' | 'calendar';
  board: BoardFigures;
  /** Clocks that are now at risk or breached (replace any row with the same contactId + standard). */
  upsert: UrgentClock[];
  /** Rows to drop (no longer at risk or breached): "contactId/standard". */
  remove: string[];
  /** Contacts whose clocks changed (a queue view may refetch them). */
  contacts: string[];
  /**
   * More clocks turned urgent at once than `urgentLimit`: `upsert` has only the most urgent of them
   * (and `contacts` is empty). A client that keeps a list should reconnect without `since` for a snapshot.
   */
  partial?: true;
  /**
   * Where these figures stand in the change feed every instance follows (PostgreSQL, several
   * instances; absent on SQLite, and while an instance reloads). Opaque: a board keeps the mark of
   * the last snapshot or delta it applied (none if that message had none) and sends it back as
   * `?mark=` with its `since` when it reconnects; another instance then resumes it with one delta.
   */
  mark?: string;
  /**
   * Only on a delta that resumes a board moved from another instance: the `since` it came with. The
   * delta follows that number (apply it if `prev` is the board's seq, whatever its own `seq`), and the
   * deltas after it follow its `seq` as usual.
   */
  prev?: number;
}

export interface HeartbeatMessage {
  type: 'heartbeat';
  seq: number;
  at: string;
}

/** The message a team lead put on every board (null: none, or it was taken down). */
export interface BoardMessage {
  id: number;
  text: string;
  by: string;
  at: string;
  until: string | null;
}

/** Unnumbered (not replayed): sent to every board when the message changes, and to each board as it connects. */
export interface BoardMessageMessage {
  type: 'message';
  message: BoardMessage | null;
}

export type ServerMessage = SnapshotMessage | DeltaMessage | HeartbeatMessage | BoardMessageMessage;

/**
 * Connect: `ws(s)://host/api/v1/live` (same-origin pages need no token; other clients send
 * `Authorization: Bearer <token>` or `?access_token=`). To resume after a drop add `?since=<last seq>`:
 * the server replays the deltas missed, or sends a fresh snapshot when they are too old. With several
 * instances (PostgreSQL) add `&mark=<the last applied message's mark>` too: an instance that did not
 * number `since` sends one delta with `prev` = since that brings the board up to date there.
 */
export const LIVE_PATH = '/api/v1/live';

/** A mark as the server writes it (`xid.id.ms`, server/live/live.ts) and the socket's `?mark=` accepts: digits only, bounded. */
export const MARK_PATTERN = '^([0-9]{1,20})\\.([0-9]{1,15})\\.([0-9]{1,15})$';
