// Holiday imports: only real dates and string titles, and no silent removal of bank holidays still to come.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_BANK_HOLIDAYS } from '../../server/domain/defaults.js';
import { compareHolidays, HolidayFileError, holidaysFromGovUk, ukDateOf } from '../../server/domain/holidays.js';
import { UnprocessableError } from '../../server/errors.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Event = { date: unknown; title?: unknown; [k: string]: unknown };

// 00:30 BST on Monday 4 May 2026 (the Early May bank holiday); still 3 May in UTC.
const NOW = Date.parse('2026-05-03T23:30:00Z');

let t: TestApp;
let now = NOW;
beforeEach(async () => {
  now = NOW;
  t = await startTestApp({}, { now: () => now });
});
afterEach(async () => {
  await t.close();
});

const bundled = (division = 'england-and-wales'): Event[] => BUNDLED_BANK_HOLIDAYS[division]!.events.map((e) => ({ ...e }));
const file = (events: Event[], division = 'england-and-wales') => ({ [division]: { division, events } });

async function post(url: string, payload: unknown) {
  const r = await t.app.inject({ method: 'POST', url, payload: payload as Json, headers: t.auth });
  return { status: r.statusCode, body: r.json() as Json };
}
async function get(url: string) {
  const r = await t.app.inject({ method: 'GET', url, headers: t.auth });
  return { status: r.statusCode, body: r.json() as Json };
}
const storedDates = async (): Promise<string[]> =>
  ((await get('/api/v1/calendars/customer-services')).body.holidays.dates as Array<{ date: string }>).map((d) => d.date);

describe('holiday files: real calendar dates in 2000–2199, string titles', () => {
  it('refuses 30 February, naming england-and-wales.events[3].date and the rule; nothing is stored', async () => {
    const before = await storedDates();
    const events = bundled().slice(0, 3).concat({ date: '2026-02-30', title: 'Not a day' });
    const r = await post('/api/v1/holidays/import', file(events));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid-holiday-file', field: 'england-and-wales.events[3].date', rule: '2026-02-30 is not a real calendar date' });
    expect(r.body.message).toBe('england-and-wales.events[3].date: 2026-02-30 is not a real calendar date');
    expect(await storedDates()).toEqual(before);
  });

  it('refuses years outside 2000–2199 (0001-01-01, 1999-12-31, 2200-01-01)', async () => {
    for (const date of ['0001-01-01', '1999-12-31', '2200-01-01']) {
      const r = await post('/api/v1/holidays/import', file([...bundled(), { date, title: 'Far away' }]));
      expect(r.status).toBe(400);
      expect(r.body.field).toBe(`england-and-wales.events[${bundled().length}].date`);
      expect(r.body.rule).toBe(`${date} is outside the supported years 2000–2199`);
    }
  });

  it('knows leap years and month lengths, and wants YYYY-MM-DD', () => {
    const one = (date: unknown) => () => holidaysFromGovUk(file([{ date, title: 'A day' }]), 'england-and-wales');
    expect(one('2028-02-29')().holidays).toEqual([{ date: '2028-02-29', title: 'A day' }]);
    expect(one('2000-02-29')().holidays).toHaveLength(1); // divisible by 400: a leap year
    expect(one('2100-02-29')).toThrow('2100-02-29 is not a real calendar date'); // divisible by 100 only
    expect(one('2027-02-29')).toThrow('is not a real calendar date');
    expect(one('2026-04-31')).toThrow('is not a real calendar date');
    expect(one('2026-13-01')).toThrow('is not a real calendar date');
    expect(one('2026-00-10')).toThrow('is not a real calendar date');
    expect(one('2026-05-00')).toThrow('is not a real calendar date');
    expect(one('2026-5-4')).toThrow('england-and-wales.events[0].date: must be a date written YYYY-MM-DD, not "2026-5-4"');
    expect(one('2026-05-04T00:00:00Z')).toThrow('must be a date written YYYY-MM-DD');
    expect(one(20260504)).toThrow('must be a date written YYYY-MM-DD, not 20260504');
    expect(one(undefined)).toThrow('must be a date written YYYY-MM-DD, not nothing');
  });

  it('refuses a title that is not a string, naming the field', async () => {
    const at = bundled().length;
    for (const title of [42, null, { text: 'x' }, ['Christmas'], undefined]) {
      const r = await post('/api/v1/holidays/import', file([...bundled(), { date: '2029-01-01', title }]));
      expect(r.status).toBe(400);
      expect(r.body.field).toBe(`england-and-wales.events[${at}].title`);
      expect(r.body.rule).toMatch(/^(must be a string, not |is required)/);
    }
    const blank = await post('/api/v1/holidays/import', file([...bundled(), { date: '2029-01-01', title: '  ' }]));
    expect(blank.body).toMatchObject({ field: `england-and-wales.events[${at}].title`, rule: 'must not be empty' });
    const control = await post('/api/v1/holidays/import', file([...bundled(), { date: '2029-01-01', title: 'New Year\u001b[31m' }]));
    expect(control.body.rule).toMatch(/control characters/);
    const long = await post('/api/v1/holidays/import', file([...bundled(), { date: '2029-01-01', title: 'x'.repeat(201) }]));
    expect(long.body.rule).toMatch(/at most 200 characters/);
  });

  it('refuses an event that is not an object, and names the division and events when they are missing', async () => {
    expect((await post('/api/v1/holidays/import', file([...bundled(), '2029-01-01' as unknown as Event]))).body.field).toBe(`england-and-wales.events[${bundled().length}]`);
    expect((await post('/api/v1/holidays/import', file([]))).body).toMatchObject({ field: 'england-and-wales.events', rule: 'must be a non-empty array' });
    expect((await post('/api/v1/holidays/import', { nothing: true })).body).toMatchObject({ statusCode: 400, field: 'body' });
    expect(() => holidaysFromGovUk({}, '__proto__')).toThrow(HolidayFileError);
  });

  it('duplicate dates: the same title twice is kept once; two titles for one date are refused', async () => {
    const same = await post('/api/v1/holidays/import', file([...bundled(), { date: '2026-12-25', title: 'Christmas Day' }]));
    expect(same.status).toBe(200);
    expect(same.body.divisions[0]).toMatchObject({ added: 0, removed: 0, retitledHolidays: [] });
    const index = bundled().findIndex((e) => e.date === '2026-12-25');
    const clash = await post('/api/v1/holidays/import', file([...bundled(), { date: '2026-12-25', title: 'Boxing Day' }]));
    expect(clash.status).toBe(400);
    expect(clash.body.field).toBe(`england-and-wales.events[${bundled().length}].date`);
    expect(clash.body.rule).toBe(`2026-12-25 is already listed at events[${index}] as "Christmas Day"; one title per date`);
  });
});

describe('an import that would remove bank holidays still to come', () => {
  it('a file with one event is refused (422) naming the division and the future dates; nothing changes', async () => {
    const before = await storedDates();
    const r = await post('/api/v1/holidays/import', file([{ date: '2026-12-25', title: 'Christmas Day' }]));
    expect(r.status).toBe(422);
    const future = before.filter((d) => d >= '2026-05-04' && d !== '2026-12-25');
    expect(r.body).toMatchObject({ code: 'would-remove-holidays', field: 'england-and-wales' });
    expect(r.body.rule).toContain(`would remove ${future.length} bank holidays dated 2026-05-04 or later (2026-05-04 Early May bank holiday, 2026-05-25 Spring bank holiday,`);
    expect(r.body.rule).toMatch(/and \d+ more\); nothing was changed\. Import with replace \(\?replace=true/);
    expect(await storedDates()).toEqual(before);
    expect((await get('/api/v1/audit')).body.items.filter((a: Json) => a.action === 'holidays.import')).toEqual([]);
  });

  it('the holiday dated today (UK date) counts as still to come', async () => {
    const r = await post('/api/v1/holidays/import', file(bundled().filter((e) => e.date !== '2026-05-04')));
    expect(r.status).toBe(422);
    expect(r.body.rule).toContain('would remove 1 bank holiday dated 2026-05-04 or later (2026-05-04 Early May bank holiday)');
  });

  it('"today" is the date in the UK: at 00:30 BST on 5 May, 4 May is past (though still today in UTC)', async () => {
    now = Date.parse('2026-05-04T23:30:00Z');
    expect(ukDateOf(now)).toBe('2026-05-05');
    const r = await post('/api/v1/holidays/import', file(bundled().filter((e) => e.date !== '2026-05-04')));
    expect(r.status).toBe(200);
    expect(r.body.divisions[0]).toMatchObject({ removed: 1, removedHolidays: [{ date: '2026-05-04', title: 'Early May bank holiday' }] });
  });

  it('removing only past holidays needs no flag, and the answer lists them', async () => {
    const r = await post('/api/v1/holidays/import', file(bundled().filter((e) => !String(e.date).startsWith('2012-'))));
    expect(r.status).toBe(200);
    expect(r.body.divisions[0].removed).toBe(bundled().filter((e) => String(e.date).startsWith('2012-')).length);
    expect(r.body.divisions[0].removedHolidays[0]).toEqual({ date: '2012-01-02', title: 'New Year’s Day' });
  });

  it('?replace=true removes them: the answer and the audit say which', async () => {
    const before = await storedDates();
    const r = await post('/api/v1/holidays/import?replace=true', file([{ date: '2026-12-25', title: 'Christmas Day' }]));
    expect(r.status).toBe(200);
    const d = r.body.divisions[0];
    expect(d).toMatchObject({ division: 'england-and-wales', added: 0, removed: before.length - 1, addedHolidays: [], calendars: ['customer-services'] });
    expect(d.removedHolidays).toHaveLength(before.length - 1);
    expect(d.removedHolidays).toContainEqual({ date: '2026-12-28', title: 'Boxing Day' });
    expect(await storedDates()).toEqual(['2026-12-25']);
    const audit = (await get('/api/v1/audit')).body.items[0];
    expect(audit).toMatchObject({ action: 'holidays.import', actor: 'test', detail: { division: 'england-and-wales', added: 0, removed: before.length - 1, replace: true } });
    expect(audit.detail.removedDates).toContain('2026-12-28');
  });

  it('?replace must be a boolean', async () => {
    const r = await post('/api/v1/holidays/import?replace=yes', file(bundled()));
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('replace');
  });

  it('adding holidays (a new year) needs no flag; the answer lists them and counts the clocks moved', async () => {
    // Received Sunday evening: one working day counts from Tuesday 5 May (Monday is a bank holiday).
    const c = await post('/api/v1/contacts', { channel: 'email', externalId: 'm-sunday', receivedAt: '2026-05-03T19:00:00Z' });
    const dueBefore = c.body.clocks[0].dueAt;
    const r = await post('/api/v1/holidays/import', file([...bundled(), { date: '2026-05-05', title: 'A proclaimed holiday' }, { date: '2029-01-01', title: 'New Year’s Day' }]));
    expect(r.status).toBe(200);
    expect(r.body.divisions).toEqual([
      {
        division: 'england-and-wales',
        added: 2,
        removed: 0,
        addedHolidays: [
          { date: '2026-05-05', title: 'A proclaimed holiday' },
          { date: '2029-01-01', title: 'New Year’s Day' },
        ],
        removedHolidays: [],
        retitledHolidays: [],
        calendars: ['customer-services'],
        recomputedContacts: 1,
        movedClocks: 1,
      },
    ]);
    const dueAfter = (await get(`/api/v1/contacts/${c.body.id}`)).body.clocks[0].dueAt;
    expect(Date.parse(dueAfter) - Date.parse(dueBefore)).toBe(24 * 3_600_000);
    const audit = (await get('/api/v1/audit')).body.items[0];
    expect(audit.detail).toMatchObject({ division: 'england-and-wales', added: 2, removed: 0, retitled: 0, replace: false, recomputedContacts: 1, movedClocks: 1 });
  });

  it('a retitled date is reported, not hidden', async () => {
    const events = bundled().map((e) => (e.date === '2026-12-28' ? { ...e, title: 'Boxing Day (substitute day)' } : e));
    const r = await post('/api/v1/holidays/import', file(events));
    expect(r.body.divisions[0]).toMatchObject({ added: 0, removed: 0, retitledHolidays: [{ date: '2026-12-28', title: 'Boxing Day (substitute day)', previousTitle: 'Boxing Day' }] });
  });

  it('several divisions are one transaction: one refused division stops them all', async () => {
    const doc = { ...file([...bundled(), { date: '2029-01-01', title: 'New Year’s Day' }]), ...file([{ date: '2026-12-25', title: 'Christmas Day' }], 'scotland') };
    const r = await post('/api/v1/holidays/import', doc);
    expect(r.status).toBe(422);
    expect(r.body.field).toBe('scotland');
    expect(await storedDates()).not.toContain('2029-01-01');
  });

  it('the service refuses the same way (the CLI path): UnprocessableError, stored list unchanged', async () => {
    const before = (await t.service.calendarStore.holidays('northern-ireland'))!.holidays.length;
    const lists = [holidaysFromGovUk(file([{ date: '2030-03-17', title: 'St Patrick’s Day' }], 'northern-ireland'), 'northern-ireland')];
    await expect(t.service.importHolidays(lists, 'cli')).rejects.toBeInstanceOf(UnprocessableError);
    expect((await t.service.calendarStore.holidays('northern-ireland'))!.holidays.length).toBe(before);
  });
});

describe('compareHolidays', () => {
  it('lists added, removed and retitled dates in date order', () => {
    const before = [
      { date: '2026-01-01', title: 'New Year' },
      { date: '2026-12-25', title: 'Christmas' },
    ];
    const after = [
      { date: '2027-01-01', title: 'New Year' },
      { date: '2026-12-25', title: 'Christmas Day' },
      { date: '2026-06-01', title: 'Proclaimed' },
    ];
    expect(compareHolidays(before, after)).toEqual({
      added: [
        { date: '2026-06-01', title: 'Proclaimed' },
        { date: '2027-01-01', title: 'New Year' },
      ],
      removed: [{ date: '2026-01-01', title: 'New Year' }],
      retitled: [{ date: '2026-12-25', title: 'Christmas Day', previousTitle: 'Christmas' }],
    });
  });
});
