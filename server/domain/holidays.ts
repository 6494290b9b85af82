// Bank holidays in the GOV.UK format (https://www.gov.uk/bank-holidays.json): read strictly, compared with what is stored.
import { KeptError } from '../errors.js';
import { DAY, dateOfDayNumber, zoneOffset } from './time.js';

/** The divisions GOV.UK publishes bank holidays for. */
export const DIVISIONS = ['england-and-wales', 'scotland', 'northern-ireland'] as const;
export type Division = (typeof DIVISIONS)[number];

/** Every GOV.UK division is in the UK: "today" for a holiday list is the date in London. */
export const HOLIDAY_TIME_ZONE = 'Europe/London';

/** Years a holiday may fall in: the span Kept's calendars are compiled over (time.ts). */
export const FIRST_HOLIDAY_YEAR = 2000;
export const LAST_HOLIDAY_YEAR = 2199;

/** Titles are shown on the board, in explanations and the CLI: one line of readable text. */
export const MAX_HOLIDAY_TITLE = 200;

export interface BankHoliday {
  date: string; // local date YYYY-MM-DD
  title: string;
}

/** One division's holidays and the years the data covers (whole years, inclusive). */
export interface HolidayList {
  division: string;
  holidays: BankHoliday[];
  coveredFrom: string; // YYYY-MM-DD, 1 January of the first year in the data
  coveredTo: string; // YYYY-MM-DD, 31 December of the last year in the data
}

/** The shape of https://www.gov.uk/bank-holidays.json */
export type GovUkBankHolidays = Record<
  string,
  { division: string; events: Array<{ title: string; date: string; notes?: string; bunting?: boolean }> }
>;

/** A GOV.UK-format holiday file Kept cannot read: names the place in the file and the rule. */
export class HolidayFileError extends KeptError {
  declare readonly field: string;
  declare readonly rule: string;
  constructor(field: string, rule: string) {
    super(400, 'invalid-holiday-file', `${field}: ${rule}`, { field, rule });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value quoted for an error message, short enough that a hostile file cannot flood the answer. */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

// C0 and C1 controls (newlines, escapes): a title is printed on terminals and boards as one line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A real calendar date in the supported years, written YYYY-MM-DD; throws naming `field`. */
function checkDate(v: unknown, field: string): string {
  const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
  if (m === null) throw new HolidayFileError(field, `must be a date written YYYY-MM-DD, not ${shown(v)}`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < FIRST_HOLIDAY_YEAR || year > LAST_HOLIDAY_YEAR) {
    throw new HolidayFileError(field, `${v as string} is outside the supported years ${FIRST_HOLIDAY_YEAR}–${LAST_HOLIDAY_YEAR}`);
  }
  // Date.UTC rolls 30 February over into March: a date is real when it survives the round trip.
  const d = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new HolidayFileError(field, `${v as string} is not a real calendar date`);
  }
  return v as string;
}

function checkTitle(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new HolidayFileError(field, v === undefined ? 'is required (the holiday\'s name, a string)' : `must be a string, not ${shown(v)}`);
  const title = v.trim();
  if (title === '') throw new HolidayFileError(field, 'must not be empty');
  if (title.length > MAX_HOLIDAY_TITLE) throw new HolidayFileError(field, `must be at most ${MAX_HOLIDAY_TITLE} characters (it has ${title.length})`);
  if (CONTROL.test(title)) throw new HolidayFileError(field, 'must not contain control characters (line breaks, escapes)');
  return title;
}

/**
 * Reads one division out of a GOV.UK-format document, validating every event: a real date in
 * 2000–2199 and a title that is a string. The same date listed twice with the same title is kept
 * once (a file joined from two copies); with two different titles it is refused, since Kept
 * cannot tell which one is right.
 */
export function holidaysFromGovUk(doc: unknown, division: string): HolidayList {
  if (!isRecord(doc)) throw new HolidayFileError('body', 'must be a JSON object in the GOV.UK bank-holidays format');
  // Own keys only: "constructor" or "__proto__" are not divisions.
  const entry = Object.hasOwn(doc, division) ? doc[division] : undefined;
  if (!isRecord(entry)) {
    throw new HolidayFileError('body', `no division "${division}" in the holiday file (it has: ${Object.keys(doc).join(', ') || 'nothing'})`);
  }
  const events = entry.events;
  if (!Array.isArray(events) || events.length === 0) throw new HolidayFileError(`${division}.events`, 'must be a non-empty array');
  const byDate = new Map<string, { title: string; index: number }>();
  const holidays: BankHoliday[] = [];
  events.forEach((e: unknown, i: number) => {
    const at = `${division}.events[${i}]`;
    if (!isRecord(e)) throw new HolidayFileError(at, `must be an object with date and title, not ${shown(e)}`);
    const date = checkDate(e.date, `${at}.date`);
    const title = checkTitle(e.title, `${at}.title`);
    const seen = byDate.get(date);
    if (seen !== undefined) {
      if (seen.title === title) return;
      throw new HolidayFileError(`${at}.date`, `${date} is already listed at events[${seen.index}] as "${seen.title}"; one title per date`);
    }
    byDate.set(date, { title, index: i });
    holidays.push({ date, title });
  });
  holidays.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return {
    division,
    holidays,
    coveredFrom: `${holidays[0]!.date.slice(0, 4)}-01-01`,
    coveredTo: `${holidays[holidays.length - 1]!.date.slice(0, 4)}-12-31`,
  };
}

/**
 * The lists an import takes from a GOV.UK document: the one division asked for, or every known
 * division the document has. All are read (and so validated) before any is stored.
 */
export function holidayListsFromGovUk(doc: unknown, division?: string): HolidayList[] {
  if (!isRecord(doc)) throw new HolidayFileError('body', 'must be a JSON object in the GOV.UK bank-holidays format');
  const divisions = division !== undefined ? [division] : DIVISIONS.filter((d) => Object.hasOwn(doc, d));
  if (divisions.length === 0) throw new HolidayFileError('body', `has no GOV.UK division (expected one of ${DIVISIONS.join(', ')})`);
  return divisions.map((d) => holidaysFromGovUk(doc, d));
}

export interface RetitledHoliday {
  date: string;
  title: string;
  previousTitle: string;
}

/** What replacing one list of a division's holidays by another would change. */
export interface HolidayChanges {
  added: BankHoliday[];
  removed: BankHoliday[];
  retitled: RetitledHoliday[];
}

/** What an import did to one division: the dates with titles, and the running clocks it moved. */
export interface HolidayImportResult {
  division: string;
  added: number;
  removed: number;
  addedHolidays: BankHoliday[];
  removedHolidays: BankHoliday[];
  retitledHolidays: RetitledHoliday[];
  /** The calendars that use this division's holidays. */
  calendars: string[];
  recomputedContacts: number;
  movedClocks: number;
}

/** Dates in `after` and not `before` (added), the reverse (removed), and dates whose title changed; each in date order. */
export function compareHolidays(before: readonly BankHoliday[], after: readonly BankHoliday[]): HolidayChanges {
  const old = new Map(before.map((h) => [h.date, h.title]));
  const next = new Map(after.map((h) => [h.date, h.title]));
  const byDate = (a: { date: string }, b: { date: string }) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0);
  const added = after.filter((h) => !old.has(h.date)).map((h) => ({ date: h.date, title: h.title }));
  const removed = before.filter((h) => !next.has(h.date)).map((h) => ({ date: h.date, title: h.title }));
  const retitled: RetitledHoliday[] = [];
  for (const h of after) {
    const previousTitle = old.get(h.date);
    if (previousTitle !== undefined && previousTitle !== h.title) retitled.push({ date: h.date, title: h.title, previousTitle });
  }
  return { added: added.sort(byDate), removed: removed.sort(byDate), retitled: retitled.sort(byDate) };
}

/** The date (YYYY-MM-DD) in the UK at an instant: the "today" bank holidays are judged against. */
export function ukDateOf(ms: number): string {
  return dateOfDayNumber(Math.floor((ms + zoneOffset(HOLIDAY_TIME_ZONE, ms)) / DAY));
}
