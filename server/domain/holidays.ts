import { dayNumberOf } from './time.js';

/** The divisions GOV.UK publishes bank holidays for. */
export const DIVISIONS = ['england-and-wales', 'scotland', 'northern-ireland'] as const;
export type Division = (typeof DIVISIONS)[number];

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

export class HolidayFileError extends Error {}

/** Reads one division out of a GOV.UK-format document, validating as it goes. */
export function holidaysFromGovUk(doc: unknown, division: string): HolidayList {
  if (typeof doc !== 'object' || doc === null) throw new HolidayFileError('holiday file: expected a JSON object');
  const entry = (doc as Record<string, unknown>)[division];
  if (typeof entry !== 'object' || entry === null) {
    const known = Object.keys(doc as object).join(', ');
    throw new HolidayFileError(`holiday file: no division "${division}" (it has: ${known})`);
  }
  const events = (entry as { events?: unknown }).events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new HolidayFileError(`holiday file: ${division}.events must be a non-empty array`);
  }
  const holidays: BankHoliday[] = events.map((e: unknown, i: number) => {
    const ev = e as { title?: unknown; date?: unknown };
    if (typeof ev.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(ev.date)) {
      throw new HolidayFileError(`holiday file: ${division}.events[${i}].date must be YYYY-MM-DD`);
    }
    dayNumberOf(ev.date);
    return { date: ev.date, title: typeof ev.title === 'string' ? ev.title : 'Bank holiday' };
  });
  holidays.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return {
    division,
    holidays,
    coveredFrom: `${holidays[0]!.date.slice(0, 4)}-01-01`,
    coveredTo: `${holidays[holidays.length - 1]!.date.slice(0, 4)}-12-31`,
  };
}
