// The built-in calendars, from the GOV.UK bank-holidays snapshot shipped with Kept.
import bankHolidays from './gov-uk-bank-holidays.json' with { type: 'json' };
import { ALWAYS, CompiledCalendar, STANDARD_WEEKLY_HOURS, type Closure, type WeeklyHours } from './calendar.js';
import type { CalendarSet } from './clocks.js';
import { holidaysFromGovUk, type GovUkBankHolidays } from './holidays.js';
import { HOUR } from './time.js';
import { AWAAB_CALENDAR_ID, awaabCalendar } from './packs/awaab.js';

export const BUNDLED_BANK_HOLIDAYS: GovUkBankHolidays = bankHolidays as GovUkBankHolidays;

export interface CustomerServicesOptions {
  division?: string;
  closures?: Closure[];
  timeZone?: string;
  weeklyHours?: WeeklyHours;
  holidayFile?: unknown;
}

/** The `customer-services` calendar: Mon–Fri 08:00–17:00 Europe/London, 9-hour working day. */
export function customerServicesCalendar(options: CustomerServicesOptions = {}): CompiledCalendar {
  return new CompiledCalendar({
    id: 'customer-services',
    timeZone: options.timeZone ?? 'Europe/London',
    weeklyHours: options.weeklyHours ?? STANDARD_WEEKLY_HOURS,
    holidays: holidaysFromGovUk(options.holidayFile ?? BUNDLED_BANK_HOLIDAYS, options.division ?? 'england-and-wales'),
    closures: options.closures ?? [],
    workingDayMs: 9 * HOUR,
  });
}

export function defaultCalendars(options: CustomerServicesOptions = {}): CalendarSet {
  return {
    always: ALWAYS,
    'customer-services': customerServicesCalendar(options),
    [AWAAB_CALENDAR_ID]: awaabCalendar(holidaysFromGovUk(options.holidayFile ?? BUNDLED_BANK_HOLIDAYS, 'england-and-wales')),
  };
}
