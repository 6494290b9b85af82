// The contacts behind one figure of the weekly report (issue 16 item 2: "every figure on the page can
// be followed to the contacts behind it"). Built from the same clock rows (ReportStore.clockRows, the
// keyed walks the report reads) judged by the same rules (figures.ts judge(), metrics.ts phoneStats())
// as of the report's instant, so the list of a figure has exactly as many contacts as the figure counts.
import { phoneStats, type PhoneStats } from '../domain/metrics.js';
import { formatInstant } from '../domain/time.js';
import { ValidationError } from '../errors.js';
import type { ClockRow } from '../store/reports.js';
import { judge } from './figures.js';
import type { ReportSource } from './source.js';
import type { ComplaintFigure, FigureContact, FigureContacts, FigureFilter, FigureOutcome, IsoWeek, PhoneFigure, WeeklyReport } from './types.js';

export type { ComplaintFigure, FigureContact, FigureContacts, FigureFilter, FigureOutcome, PhoneFigure } from './types.js';
import { isoWeekBounds, REPORT_ZONE } from './week.js';
import type { ReportSettings } from './weekly.js';

/** Outcomes a figure of the standards or people tables counts (`all` = every clock, the "Clocks" column). */
export const OUTCOMES = ['met', 'missed', 'breached', 'cancelled', 'met-extended', 'missed-extended', 'open', 'abandoned'] as const satisfies readonly FigureOutcome[];
type Outcome = FigureOutcome;

/** The phone table's counted figures, each the PhoneStats counter it is (metrics.ts). */
export const PHONE_FIGURES = {
  offered: 'offered',
  answered: 'answered',
  'answered-within-target': 'answeredWithinTarget',
  abandoned: 'abandons',
  'short-abandons': 'shortAbandons',
  waiting: 'waiting',
  'callbacks-requested': 'callbacksRequested',
  'callbacks-connected': 'callbacksConnected',
  'callbacks-within-target': 'callbacksConnectedWithinTarget',
} as const satisfies Record<PhoneFigure, keyof PhoneStats>;

/**
 * The complaints section's counted figures, each as figures.ts complaintFigures() counts it: which of
 * the pack's complaint standards (acknowledge or resolve) and which judged outcomes, or (`extended`) a
 * resolve clock with an agreed extension. "Received" is not here: it counts contacts, not clocks.
 */
const ENDED = ['met', 'missed', 'met-extended', 'missed-extended'] as const;
export const COMPLAINT_FIGURES = {
  acknowledged: { of: 'acknowledge', outcomes: ENDED },
  'acknowledged-within-target': { of: 'acknowledge', outcomes: ['met', 'met-extended'] },
  resolved: { of: 'resolve', outcomes: ENDED },
  'resolved-within-target': { of: 'resolve', outcomes: ['met'] },
  'resolved-within-extension': { of: 'resolve', outcomes: ['met-extended'] },
  extended: { of: 'resolve', outcomes: null },
  'open-past-target': { of: 'either', outcomes: ['breached'] },
} as const satisfies Record<ComplaintFigure, { of: 'acknowledge' | 'resolve' | 'either'; outcomes: readonly Outcome[] | null }>;

export const MAX_LIMIT = 200;

/** Parses the query into a filter, naming the field that is wrong. */
export function parseFilter(q: { standard?: string; channel?: string; outcome?: string; phone?: string; complaint?: string; advisor?: string; team?: string }): FigureFilter {
  const f: FigureFilter = {};
  if (q.standard !== undefined && q.standard !== '') f.standard = q.standard;
  if (q.channel !== undefined && q.channel !== '') f.channel = q.channel;
  if (q.advisor !== undefined && q.advisor !== '') f.advisor = q.advisor;
  if (q.team !== undefined && q.team !== '') f.team = q.team;
  if (q.outcome !== undefined && q.outcome !== '' && q.outcome !== 'all') {
    const list = q.outcome.split(',');
    for (const o of list) if (!(OUTCOMES as readonly string[]).includes(o)) throw new ValidationError('outcome', `all, or one or more (comma-separated) of ${OUTCOMES.join(', ')}`);
    f.outcomes = [...new Set(list)] as Outcome[];
  }
  if (q.phone !== undefined && q.phone !== '') {
    if (!Object.hasOwn(PHONE_FIGURES, q.phone)) throw new ValidationError('phone', `one of ${Object.keys(PHONE_FIGURES).join(', ')}`);
    if (f.outcomes !== undefined) throw new ValidationError('phone', 'a phone figure or an outcome, not both');
    f.phone = q.phone as PhoneFigure;
  }
  if (q.complaint !== undefined && q.complaint !== '') {
    if (!Object.hasOwn(COMPLAINT_FIGURES, q.complaint)) throw new ValidationError('complaint', `one of ${Object.keys(COMPLAINT_FIGURES).join(', ')}`);
    if (f.outcomes !== undefined || f.phone !== undefined) throw new ValidationError('complaint', 'a complaints figure, not with an outcome or a phone figure');
    f.complaint = q.complaint as ComplaintFigure;
  }
  return f;
}

/** The cursor: the last row's key (startedAt, contactId, standard), base64url. */
type Key = [number, string, string];
const encodeCursor = (k: Key) => Buffer.from(JSON.stringify(k)).toString('base64url');
function decodeCursor(cursor: string): Key {
  try {
    const k = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(k) && k.length === 3 && typeof k[0] === 'number' && typeof k[1] === 'string' && typeof k[2] === 'string') return k as Key;
  } catch {
    // falls through
  }
  throw new ValidationError('cursor', 'a cursor this route gave (next)');
}
const compareKey = (a: Key, b: Key) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);

/**
 * A clock as it stood at `asOf` (a published week's instant): a fulfilment or end recorded after it had
 * not happened then, so the clock is judged as still running (figures.ts judge() does the rest).
 */
function asItStood(r: ClockRow, asOf: number): { status: string; open: boolean; dueAt: number | null; fulfilledAt: number | null; endedAt: number | null } {
  const [, , , status, open, , dueAt, fulfilledAt, endedAt] = r;
  const after = (fulfilledAt !== null && fulfilledAt > asOf) || (endedAt !== null && endedAt > asOf);
  if (after) return { status: 'running', open: true, dueAt, fulfilledAt: null, endedAt: null };
  return { status, open: open === 1, dueAt, fulfilledAt, endedAt };
}

/** The counters of one call, as phoneStats counts it (the same code as the phone figures). */
function phoneCounters(c: { status: string; fulfilledAt: number | null; endedAt: number | null; dueAt: number | null; open: boolean }, startedAt: number, callback: boolean, asOf: number, targetMs: number): PhoneStats {
  const j = judge(c, asOf);
  const status = j === 'breached' ? 'breached' : j === 'open' ? 'running' : c.status;
  return phoneStats([{ receivedAt: startedAt, status, answeredAt: c.fulfilledAt, endedAt: c.endedAt, callback }], asOf, targetMs, 'standard');
}

/**
 * The contacts behind one figure of `week`, judged as of `asOf`, in the order (startedAt, contactId,
 * standard), `limit` at a time after `cursor`.
 */
export async function figureContacts(
  store: ReportSource,
  week: IsoWeek,
  settings: ReportSettings,
  filter: FigureFilter,
  asOf: number,
  page: { limit: number; cursor?: string },
): Promise<FigureContacts> {
  const zone = settings.zone ?? REPORT_ZONE;
  const bounds = isoWeekBounds(week, zone);
  const { shape } = settings;
  const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
  const rows = await store.clockRows(bounds.from, bounds.to, shape.late);
  // Every row's assignee is shown; the week's people in one keyed walk (late clocks' contacts by key).
  const [people, teams] = await Promise.all([
    store.people(bounds.from, bounds.to, shape.late.length === 0 ? [] : rows.map((r) => r[0])),
    filter.team !== undefined ? store.teams() : null,
  ]);
  const outcomes = filter.outcomes === undefined ? null : new Set<string>(filter.outcomes);
  const complaint = filter.complaint === undefined ? null : COMPLAINT_FIGURES[filter.complaint];
  const complaintOutcomes = complaint?.outcomes == null ? null : new Set<string>(complaint.outcomes);
  const found: Array<{ key: Key; item: FigureContact }> = [];
  let total = 0;
  for (const r of rows) {
    const [contactId, standard, , , , startedAt, , , , , channel, extendedUntil] = r;
    if (filter.standard !== undefined && standard !== filter.standard) continue;
    if (filter.channel !== undefined && channel !== filter.channel) continue;
    const person = people.get(contactId);
    const assignee = person?.[1] ?? null;
    if (filter.advisor !== undefined && (assignee ?? 'unassigned') !== filter.advisor) continue;
    if (teams !== null && (assignee === null ? 'unassigned' : (teams.get(assignee) ?? 'no team')) !== filter.team) continue;
    const c = asItStood(r, asOf);
    const j = judge(c, asOf);
    if (outcomes !== null && !outcomes.has(j)) continue;
    if (filter.phone !== undefined) {
      if (!shape.phone.has(standard)) continue;
      if (phoneCounters(c, startedAt, person?.[2] === 1, asOf, shape.phoneTargetMs)[PHONE_FIGURES[filter.phone]] !== 1) continue;
    }
    if (complaint !== null) {
      const ack = shape.acknowledge.has(standard);
      const res = shape.resolve.has(standard);
      if (complaint.of === 'acknowledge' ? !ack : complaint.of === 'resolve' ? !res : !ack && !res) continue;
      if (complaintOutcomes !== null ? !complaintOutcomes.has(j) : extendedUntil === null) continue;
    }
    total++;
    const key: Key = [startedAt, contactId, standard];
    if (after !== null && compareKey(key, after) <= 0) continue;
    found.push({
      key,
      item: {
        contactId,
        href: `/contacts/${encodeURIComponent(contactId)}`,
        standard,
        channel,
        outcome: j,
        startedAt: formatInstant(startedAt),
        dueAt: c.dueAt === null ? null : formatInstant(c.dueAt),
        fulfilledAt: c.fulfilledAt === null ? null : formatInstant(c.fulfilledAt),
        assignee,
      },
    });
  }
  found.sort((a, b) => compareKey(a.key, b.key));
  const items = found.slice(0, page.limit);
  const next = found.length > page.limit ? encodeCursor(items[items.length - 1]!.key) : null;
  return { week: bounds.week, builtAt: formatInstant(asOf), filter, total, published: null, items: items.map((x) => x.item), next };
}

const OUTCOME_FIELD = {
  met: 'met',
  missed: 'missed',
  breached: 'breached',
  cancelled: 'cancelled',
  'met-extended': 'metExtended',
  'missed-extended': 'missedExtended',
  open: 'open',
  abandoned: 'abandoned',
} as const satisfies Record<Outcome, string>;

const PHONE_FIELD = {
  offered: 'offered',
  answered: 'answered',
  'answered-within-target': 'answeredWithinTarget',
  abandoned: 'abandoned',
  'short-abandons': 'shortAbandons',
  waiting: 'waiting',
  'callbacks-requested': 'callbacksRequested',
  'callbacks-connected': 'callbacksConnected',
  'callbacks-within-target': 'callbacksWithinTarget',
} as const satisfies Record<PhoneFigure, keyof WeeklyReport['phone']>;

/** The report's cell a filter names (a standards row's, the phone table's, an advisor's or team's), or null. */
export function cellOf(report: WeeklyReport, f: FigureFilter): number | null {
  const { standard, channel, outcomes, phone, complaint, advisor, team } = f;
  if (complaint !== undefined) return standard === undefined && channel === undefined && advisor === undefined && team === undefined ? complaintCell(report.complaints, complaint) : null;
  if (phone !== undefined) return standard === undefined && channel === undefined && advisor === undefined && team === undefined ? (report.phone[PHONE_FIELD[phone]] as number) : null;
  const sum = (row: Record<string, unknown>, clocks: number) => {
    if (outcomes === undefined) return clocks;
    let n = 0;
    for (const o of outcomes) {
      const v = row[OUTCOME_FIELD[o]];
      if (typeof v !== 'number') return null;
      n += v;
    }
    return n;
  };
  if (standard !== undefined && channel !== undefined && advisor === undefined && team === undefined) {
    const row = report.standards.find((s) => s.standard === standard && s.channel === channel);
    return row === undefined ? 0 : sum(row as unknown as Record<string, unknown>, row.clocks);
  }
  if (standard === undefined && channel === undefined && (advisor === undefined) !== (team === undefined)) {
    const rows = advisor !== undefined ? report.advisors : report.teams;
    const row = rows.find((p) => p.key === (advisor ?? team));
    return row === undefined ? 0 : sum(row as unknown as Record<string, unknown>, row.clocks);
  }
  return null;
}

function complaintCell(c: WeeklyReport['complaints'], f: ComplaintFigure): number {
  switch (f) {
    case 'acknowledged': return c.acknowledged;
    case 'acknowledged-within-target': return c.acknowledgedWithinTarget;
    case 'resolved': return c.resolved;
    case 'resolved-within-target': return c.resolvedWithinTarget;
    case 'resolved-within-extension': return c.resolvedWithinExtension;
    case 'extended': return c.extended;
    case 'open-past-target': return c.openPastTarget.length;
  }
}
